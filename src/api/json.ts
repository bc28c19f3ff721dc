import { ApiError } from "./errors";

type ReviverContext = { source?: string };

declare global {
  interface JSON {
    rawJSON(text: string): unknown;
    isRawJSON(value: unknown): boolean;
  }
  interface String {
    isWellFormed(): boolean;
  }
}

/**
 * A number as it was written. JSON.parse would turn 2.50 into 2.5 and 12345678901234567890 into
 * 12345678901234567000; where the value does not write back to its source text, the source text
 * is kept (`context.source`, V8's JSON.parse source text access) as a raw JSON number, which
 * JSON.stringify writes back byte for byte. Money is read from that text too (see moneyText).
 */
function exactNumber(value: number, context?: ReviverContext): unknown {
  const source = context?.source;
  return source === undefined || JSON.stringify(value) === source ? value : JSON.rawJSON(source);
}

const NOT_WELL_FORMED =
  "body holds a string or key that is not well-formed Unicode (a lone surrogate)";

// The body is valid UTF-8, but a \ud800 escape still makes a lone surrogate: D1 would store it as
// U+FFFD, so two different ids would meet as one row and the second would fail forever. Every
// string and key of a request is refused unless well-formed, before anything is written.
function requestReviver(
  this: unknown,
  key: string,
  value: unknown,
  context?: ReviverContext,
): unknown {
  if (!key.isWellFormed() || (typeof value === "string" && !value.isWellFormed()))
    throw new ApiError("INVALID_REQUEST", NOT_WELL_FORMED);
  return typeof value === "number" ? exactNumber(value, context) : value;
}

function storedReviver(
  this: unknown,
  _key: string,
  value: unknown,
  context?: ReviverContext,
): unknown {
  return typeof value === "number" ? exactNumber(value, context) : value;
}

/** JSON the wallet wrote itself (ledger metadata), read back with every number as it was stored. */
export function parseStoredJson(text: string): unknown {
  return JSON.parse(text, storedReviver);
}

/**
 * The money field `key` of a request object as decimal text: a JSON number's source text, or a
 * string as sent (money.ts reads it exactly). Only the request's own field is money: an `amount`
 * deeper inside (a jackpot's) is metadata and stays as it came.
 */
export function moneyText(request: unknown, key: string): unknown {
  if (
    request === null ||
    typeof request !== "object" ||
    Array.isArray(request) ||
    !Object.hasOwn(request, key)
  )
    return request;
  const value: unknown = Reflect.get(request, key);
  if (typeof value === "number" || JSON.isRawJSON(value))
    Reflect.set(request, key, JSON.stringify(value));
  return request;
}

/**
 * The fields of a request the wallet does not interpret, as JSON text exactly as received: keys
 * (`__proto__` too: Object.entries and fromEntries copy it as a plain key, where an assignment
 * would set a prototype) and numbers (their source text).
 */
export function unknownFieldsJson(request: object, known: readonly string[]): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(request).filter(([key]) => !known.includes(key))),
  );
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, requestReviver);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // Deep nesting overflows the parser's stack: valid JSON, but not something to accept.
    throw new ApiError(
      "INVALID_REQUEST",
      error instanceof RangeError ? "body is nested too deeply" : "body is not valid JSON",
    );
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined)
    throw new ApiError(
      "INVALID_REQUEST",
      `key "${duplicate.slice(0, 64)}" appears twice in one object`,
    );
  return parsed;
}

/**
 * JSON.parse keeps the last of two equal keys, while another parser on the way (a proxy, a log
 * reader) may keep the first: with money in the body that is two readings of one signed request,
 * so a body with a repeated key is refused. Runs on text JSON.parse has accepted, so it only
 * tracks strings and nesting.
 */
function firstDuplicateKey(text: string): string | undefined {
  // One entry per open bracket: the keys seen so far for an object, undefined for an array.
  const open: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = end;
    } else if (char === "{") {
      open.push(new Set());
      expectKey = true;
    } else if (char === "[") {
      open.push(undefined);
    } else if (char === "}" || char === "]") {
      open.pop();
    } else if (char === ",") {
      expectKey = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** A JSON number written with exactly this decimal text (1000.00 stays 1000.00). */
export function decimalNumber(text: string): unknown {
  return JSON.rawJSON(text);
}

export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    // Answers hold balances and player data: no browser or proxy may keep them.
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

export function errorResponse(error: ApiError): Response {
  return jsonResponse(error.status, { code: error.code, message: error.message, ...error.extra });
}
