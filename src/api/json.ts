import { ApiError } from "./errors";

// Money arrives as JSON numbers or strings. JSON.parse would turn 0.1 into a float, so the
// reviver hands on the number's source text instead, and money.ts reads that text exactly.
const MONEY_KEYS = new Set(["amount", "balance"]);

type ReviverContext = { source?: string };

function keepMoneySourceText(this: unknown, key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value === "number" && MONEY_KEYS.has(key)) {
    // `context.source` is the literal as written (V8's JSON.parse source text access).
    return context?.source ?? String(value);
  }
  return value;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Parses a request body; malformed UTF-8 or JSON is a 400 in the API's error format. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ApiError("INVALID_REQUEST", "body is not valid UTF-8");
  }
  if (text.trim() === "") throw new ApiError("INVALID_REQUEST", "body must be a JSON document");
  try {
    return JSON.parse(text, keepMoneySourceText);
  } catch {
    throw new ApiError("INVALID_REQUEST", "body is not valid JSON");
  }
}

declare global {
  interface JSON {
    rawJSON(text: string): unknown;
  }
}

/** A JSON number written with exactly this decimal text (1000.00 stays 1000.00). */
export function decimalNumber(text: string): unknown {
  return JSON.rawJSON(text);
}

export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(error: ApiError): Response {
  return jsonResponse(error.status, { error: { code: error.code, message: error.message }, ...error.extra });
}
