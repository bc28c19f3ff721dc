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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, keepMoneySourceText);
  } catch (error) {
    // Deep nesting overflows the parser's stack: valid JSON, but not something to accept.
    throw new ApiError("INVALID_REQUEST", error instanceof RangeError ? "body is nested too deeply" : "body is not valid JSON");
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) throw new ApiError("INVALID_REQUEST", `key "${duplicate.slice(0, 64)}" appears twice in one object`);
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
    if (char === "\"") {
      let end = i + 1;
      while (text[end] !== "\"") end += text[end] === "\\" ? 2 : 1;
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
    // Answers hold balances and player data: no browser or proxy may keep them.
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function errorResponse(error: ApiError): Response {
  return jsonResponse(error.status, { code: error.code, message: error.message, ...error.extra });
}
