// What the simulator's scenarios share: the amounts they play with and how answers are written
// down for comparison ("200", "402 INSUFFICIENT_FUNDS", "OK 90.00").

export const OPENING_MINOR = 10_000; // every scenario's player starts at 100.00 (in a 2-decimal currency)
export const CONCURRENT_DEBITS = 100;
export const CONCURRENT_OPENING_MINOR = 5_000; // 50.00: room for exactly half of the concurrent 1.00 debits
export const CONTRIBUTION_MINOR = 100; // a jackpot round's Debit: 1.00
export const WIN_MINOR = 2_500; // its Credit when the round wins: 25.00

/** "200", or the status and the error code of the spec's error shape ("402 INSUFFICIENT_FUNDS"). */
export function outcome(answer) {
  if (answer.status >= 200 && answer.status < 300) return String(answer.status);
  const { code, message } = answer.body ?? {};
  if (typeof code !== "string" || typeof message !== "string")
    return `${answer.status} (not the error shape)`;
  return `${answer.status} ${code}`;
}

/** One batch item's result as "OK 90.00" or "ERROR INSUFFICIENT_FUNDS" (source text of the balance). */
export function itemOutcome(result) {
  if (!result) return "missing";
  const status = JSON.parse(result.status ?? "null");
  return status === "OK"
    ? `OK ${result.balance}`
    : `${status} ${JSON.parse(result.error?.code ?? "null")}`;
}

/** The JSON text of a string, as parseSourceText keeps it: `"EUR"`. */
export const quoted = (text) => JSON.stringify(text);

/**
 * A body whose amount is a JSON number with exactly the given text (JSON.stringify cannot write
 * 12.30 with its trailing zero). ThrillGate sends numbers; the other scenarios send decimal strings.
 */
export function withNumberAmount(body) {
  const placeholder = "__amount__";
  return JSON.stringify({ ...body, amount: placeholder }).replace(quoted(placeholder), body.amount);
}
