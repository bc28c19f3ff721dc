// Money as the report and export tests expect to read it: written here, not taken from the
// wallet's money.ts, so that a wrong exponent or rounding there cannot agree with itself.

const EXPONENTS: Record<string, number> = { EUR: 2, JPY: 0 };

/** Exact decimal text of minor units. */
export function decimal(minor: number, currency: string): string {
  const exponent = EXPONENTS[currency] ?? 2;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const sign = minor < 0 ? "-" : "";
  return exponent === 0
    ? sign + digits
    : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
