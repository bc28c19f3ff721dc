// The one reader of a JSON answer that keeps what JSON.parse loses: the client, the simulator and
// the bank compare money as the wallet wrote it (90.00 is not 90, "90.00" is not 90.00).

type Context = { source?: string };

/**
 * JSON.parse, except every leaf value is kept as its JSON source text: a balance written as
 * `90.00` reads "90.00" (not 90), one written as the string "90.00" reads "\"90.00\"". Exact
 * money and the number-versus-string difference of the cancel answer both survive.
 */
export function parseSourceText(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: Context) =>
    typeof value === "object" && value !== null ? value : context?.source,
  );
}
