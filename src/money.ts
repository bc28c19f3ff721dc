// Decimal text ⇄ integer minor units, per currency exponent. No floating-point arithmetic:
// amounts are read from their source text and written back as exact decimal text.

/** An integer count of a currency's minor units (cents for EUR, yen for JPY). */
export type MinorUnits = number;

// Every amount and every balance stays at or below this, so that sums of two of them are
// still below 2^53: JavaScript numbers and D1 INTEGERs then hold them exactly.
export const MAX_MINOR_UNITS: MinorUnits = 1_000_000_000_000_000;

// ISO 4217 currencies whose exponent is not 2, plus the crypto units operators commonly run.
// Every other three-letter code has 2 decimals.
const EXPONENT_EXCEPTIONS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
  BTC: 8,
  LTC: 8,
  BCH: 8,
  ETH: 8,
  USDT: 6,
  USDC: 6,
};

const CURRENCY_CODE = /^[A-Z]{3,5}$/;

/** The number of decimals a currency has, or undefined for a code the wallet cannot hold. */
export function currencyExponent(currency: string): number | undefined {
  const exception = EXPONENT_EXCEPTIONS[currency];
  if (exception !== undefined) return exception;
  return /^[A-Z]{3}$/.test(currency) ? 2 : undefined;
}

export function isKnownCurrency(currency: string): boolean {
  return CURRENCY_CODE.test(currency) && currencyExponent(currency) !== undefined;
}

const DECIMAL_TEXT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export type ParsedAmount = { ok: true; minor: MinorUnits } | { ok: false; reason: string };

/**
 * Reads a non-negative decimal ("12.34", "0", "5.10") into minor units of `currency`.
 * Refuses what the currency cannot represent exactly (more significant decimals than its
 * exponent), signs, exponents, and anything above MAX_MINOR_UNITS. Trailing zeros past the
 * exponent are exact and accepted ("1.000" EUR is 100 cents).
 */
export function parseAmount(text: string, currency: string): ParsedAmount {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) return { ok: false, reason: `unknown currency ${currency}` };
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return { ok: false, reason: "amount must be a non-negative decimal such as 12.34" };
  const whole = match[1] ?? "0";
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > exponent) {
    return { ok: false, reason: `${currency} amounts have at most ${exponent} decimals` };
  }
  // Bound the text before BigInt so an absurd digit string costs nothing.
  if (whole.length > String(MAX_MINOR_UNITS).length)
    return { ok: false, reason: "amount is too large" };
  const minor =
    BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
  if (minor > BigInt(MAX_MINOR_UNITS)) return { ok: false, reason: "amount is too large" };
  return { ok: true, minor: Number(minor) };
}

/** The same decimal written one way ("3.10" and "3.1" → "3.1"), to compare amounts before a currency is known. */
export function canonicalDecimal(text: string): string {
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/** Exact decimal text of an amount in minor units: 100001927.79 EUR, 500 JPY. */
export function formatMinor(minor: MinorUnits, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new Error(`not a safe integer amount: ${minor}`);
  const exponent = currencyExponent(currency);
  // Every currency stored was checked when its player was created: another one is a broken invariant.
  if (exponent === undefined) throw new Error(`no exponent for currency ${currency}`);
  const digits = Math.abs(minor)
    .toString()
    .padStart(exponent + 1, "0");
  const sign = minor < 0 ? "-" : "";
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
