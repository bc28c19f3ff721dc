import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { MAX_REASON_LENGTH } from "../src/api/schemas";
import { signBody } from "../src/auth/hmac";
import {
  admin,
  databaseSnapshot,
  newPlayer,
  sendRaw,
  transact,
  uniqueId,
  type Answer,
  type TestPlayer,
} from "./helpers";

// Every wallet endpoint gets RUNS generated requests that are all invalid by construction: a valid
// request with one to three fields broken, a request whose JSON itself is broken (duplicate keys,
// invalid UTF-8, truncation, deep nesting), a bad signature, or a body above the cap. Whatever
// the mix, the Worker must answer a 4xx in the spec's error format, and D1 must not change.
// A failure names its seed: pass it back in `SEEDS` (fast-check also prints the path) to replay it.

const RUNS = 10_000;
const SEEDS = {
  authenticate: 0x5eed_0001,
  balance: 0x5eed_0002,
  transaction: 0x5eed_0003,
  cancel: 0x5eed_0004,
  transactionBatch: 0x5eed_0005,
  cancelBatch: 0x5eed_0006,
};
// Refused before the body is held whole; 1024 is the lowest cap the config accepts, so most
// oversized bodies stay small. A few use the deployed cap.
const SMALL_CAP_BYTES = 1024;
// A few minutes of margin on a busy machine; the whole file usually takes far less.
const PROPERTY_TIMEOUT_MS = 180_000;

const encoder = new TextEncoder();

// ---- JSON built by hand, so a body can hold what JSON.stringify never writes --------------

/** JSON text written as is: 1e309, -0, deep nesting, an escaped key. */
class Raw {
  constructor(readonly text: string) {}
}
/** An object as an ordered list of entries, so one key can appear twice. */
class Entries {
  constructor(readonly entries: [string | Raw, unknown][]) {}
}
const MISSING = Symbol("missing");

function serialize(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Entries) {
    return `{${value.entries.map(([key, v]) => `${key instanceof Raw ? key.text : JSON.stringify(key)}:${serialize(v)}`).join(",")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return serialize(new Entries(Object.entries(value).filter(([, v]) => v !== MISSING)));
  }
  return JSON.stringify(value) ?? "null";
}

// ---- Building blocks -------------------------------------------------------------------------

// fast-check's "binary" unit never yields a lone surrogate; JSON.stringify writes those as \udXXX.
const anyChar = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "\ud800",
      "\udbff",
      "\udc00",
      "\udfff",
      "\u0000",
      "\u2028",
      "\ufeff",
      '"',
      "\\",
      "é",
      "😀",
    ),
  },
);
const text = (minLength: number, maxLength: number) =>
  fc.string({ unit: anyChar, minLength, maxLength });
/** Printable ASCII: what a header value can hold without the test's own Headers refusing it. */
const printable = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength,
  });

/** A string longer than `maxLength` UTF-16 units, up to a few thousand: cheap to build at any size. */
const tooLong = (maxLength: number) =>
  fc
    .tuple(
      fc.integer({ min: maxLength + 1, max: maxLength + 4000 }),
      fc.constantFrom("x", "é", "😀", "\ud800", "0", "\\"),
    )
    .map(([length, unit]) => unit.repeat(length));

/**
 * Nested arrays or objects, some deep enough to hurt a recursive parser: json.ts's reviver
 * overflows the stack near 3,000 levels, which must end in a 400 like any other bad JSON. (Those
 * cost milliseconds each, hence the smaller share.)
 */
function deepNesting(
  maxDepth = 30_000,
  balanced: fc.Arbitrary<boolean> = fc.constant(true),
): fc.Arbitrary<Raw> {
  const shallowDepth = Math.min(maxDepth, 2000);
  const depth =
    maxDepth > shallowDepth
      ? fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 1, max: shallowDepth }) },
          { weight: 1, arbitrary: fc.integer({ min: shallowDepth + 1, max: maxDepth }) },
        )
      : fc.integer({ min: 1, max: maxDepth });
  return fc.tuple(depth, fc.constantFrom("[", '{"a":'), balanced).map(([depth, open, closed]) => {
    const close = open === "[" ? "]" : "}";
    const inner = open === "[" ? "" : "1";
    return new Raw(open.repeat(depth) + inner + close.repeat(closed ? depth : depth - 1));
  });
}

const rawNumbers = fc
  .constantFrom(
    "1e309",
    "-1e309",
    "-0",
    "1e-7",
    "1E400",
    "123456789012345678901234567890",
    "0.1",
    "-1",
  )
  .map((t) => new Raw(t));

/** A value of any JSON type but string (numbers only if `numbers`), for a field that wants a string. */
const wrongType = (numbers: boolean) =>
  fc.oneof(
    fc.boolean(),
    ...(numbers ? [fc.integer(), fc.double(), rawNumbers] : []),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(text(0, 8), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    deepNesting(),
  );

/** Anything but a non-empty list of items: what a batch's `transactions` must refuse. */
const notAList = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  rawNumbers,
  text(0, 20),
  fc.dictionary(text(0, 8), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.array(fc.oneof(fc.jsonValue({ maxDepth: 1 }), deepNesting()), { minLength: 1, maxLength: 3 }),
);

/**
 * Amounts no currency with `exponent` decimals can take: signs, exponents, hex, spaces, more
 * decimals than the currency has, above the wallet's maximum, as strings and as JSON numbers.
 */
function badAmounts(exponent: number): fc.Arbitrary<unknown> {
  const tooPrecise = fc
    .tuple(
      fc.nat(1_000_000),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: exponent, maxLength: exponent + 8 }),
      fc.integer({ min: 1, max: 9 }),
    )
    .map(([whole, digits, last]) => `${whole}.${digits.join("")}${last}`);
  const tooLarge = fc
    .tuple(fc.integer({ min: 2, max: 9 }), fc.nat(20))
    .map(([first, extra]) => `${first}${"0".repeat(15 - exponent + extra)}`);
  return fc.oneof(
    fc.constantFrom(
      "1.005",
      " 1.00",
      "1.00 ",
      "0x10",
      "1e-7",
      "1E2",
      "-1.00",
      "-0",
      "+1",
      "1,00",
      "",
      ".5",
      "1.",
      "01.00",
      "NaN",
      "Infinity",
      "١",
      "１",
      "1_000",
    ),
    fc
      .constantFrom(
        "1e309",
        "-0",
        "1e-7",
        "-1",
        "1.005",
        "1E2",
        "-1e309",
        "100000000000000000000",
        "0.001",
        "-0.0",
      )
      .map((t) => new Raw(t)),
    tooPrecise,
    tooPrecise.map((t) => new Raw(t)),
    tooLarge,
    tooLarge.map((t) => new Raw(t)),
    // Anything that is not digits with an optional fraction.
    text(0, 20).filter((s) => !/^[0-9]+(\.[0-9]*)?$/.test(s)),
  );
}

// ---- Breaking one field ----------------------------------------------------------------------

interface Expect {
  status: number;
  code: string;
}
const INVALID_REQUEST: Expect = { status: 400, code: "INVALID_REQUEST" };

/** What a field accepts, from src/api/schemas.ts and the spec. */
interface FieldRule {
  required: boolean;
  nullable: boolean;
  minLength: number;
  maxLength: number;
  /** JSON numbers pass the schema (money: json.ts reads their source text). */
  numbers?: boolean;
  /** Values that pass the schema but that the wallet must still refuse, and its answer to them. */
  refused?: { values: fc.Arbitrary<unknown>; expect: Expect };
}

/** One field set to `value` (or removed). `schema` refusals are answered before anything else. */
interface Mutation {
  field: string;
  value: unknown;
  schema: boolean;
  expect: Expect;
}

function mutations(field: string, rule: FieldRule, withRefused = true): fc.Arbitrary<Mutation> {
  const schemaValues: fc.Arbitrary<unknown>[] = [
    wrongType(rule.numbers ?? false),
    tooLong(rule.maxLength),
  ];
  if (rule.required) schemaValues.push(fc.constant(MISSING));
  if (!rule.nullable) schemaValues.push(fc.constant(null));
  if (rule.minLength > 0) schemaValues.push(fc.constant(""));
  const bySchema = fc
    .oneof(...schemaValues)
    .map((value) => ({ field, value, schema: true, expect: INVALID_REQUEST }));
  if (!withRefused || !rule.refused) return bySchema;
  const { values, expect } = rule.refused;
  // Refusals past the schema cost a Durable Object call (milliseconds, not microseconds), so fewer.
  return fc.oneof(
    { weight: 4, arbitrary: bySchema },
    { weight: 1, arbitrary: values.map((value) => ({ field, value, schema: false, expect })) },
  );
}

/** A request `template` with one to three of its fields broken, and the answer that implies. */
function brokenFields(
  template: Record<string, unknown>,
  fields: fc.Arbitrary<Mutation>,
): fc.Arbitrary<{ body: string; expect: Expect | undefined }> {
  return fc
    .tuple(
      fc.uniqueArray(fields, { minLength: 1, maxLength: 3, selector: (m) => m.field }),
      noise(Object.keys(template)),
    )
    .map(([broken, extra]) => {
      const body: Record<string, unknown> = { ...template, ...extra };
      for (const m of broken) body[m.field] = m.value;
      return { body: serialize(body), expect: expectOf(broken) };
    });
}

/** Schema refusals come first; past them, which refusal wins among several is the wallet's business. */
function expectOf(broken: Mutation[]): Expect | undefined {
  if (broken.some((m) => m.schema)) return INVALID_REQUEST;
  return broken.length === 1 ? broken[0]?.expect : undefined;
}

/** Fields ThrillGate may add (kept as metadata, never refused): they must not rescue a broken request. */
const noise = (known: string[]) =>
  fc.dictionary(
    text(1, 12).filter((key) => !known.includes(key)),
    // Shallow enough to parse: noise must leave the refusal to the broken fields.
    fc.oneof(fc.jsonValue({ maxDepth: 3 }), tooLong(300), deepNesting(1000), rawNumbers),
    { maxKeys: 3 },
  );

// ---- Breaking the body as a whole ------------------------------------------------------------

interface BodyCase {
  body: string | Uint8Array;
  expect: Expect | undefined;
  /** Settings for this request only, e.g. a lower MAX_BATCH_SIZE. */
  vars?: Partial<Cloudflare.Env>;
}

/**
 * `target` (the valid request, or an object inside it) with one of its keys written twice, with the
 * same or another value, maybe spelled with an escape; `wrap` puts it back into its request.
 */
function duplicateKey(
  target: Record<string, unknown>,
  wrap: (doubled: Entries) => unknown = (doubled) => doubled,
): fc.Arbitrary<BodyCase> {
  return fc
    .tuple(
      fc.constantFrom(...Object.keys(target)),
      fc.option(fc.jsonValue({ maxDepth: 1 })),
      fc.boolean(),
      fc.nat(),
    )
    .map(([key, other, escaped, at]) => {
      const entries: [string | Raw, unknown][] = Object.entries(target);
      const spelled = escaped
        ? new Raw(`"\\u${key.charCodeAt(0).toString(16).padStart(4, "0")}${key.slice(1)}"`)
        : key;
      entries.splice(at % (entries.length + 1), 0, [spelled, other ?? target[key]]);
      return { body: serialize(wrap(new Entries(entries))), expect: INVALID_REQUEST };
    });
}

const INVALID_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc3],
];

/** The valid request's bytes with a sequence that is not UTF-8 somewhere inside (1 byte in, so it stays JSON-shaped). */
function invalidUtf8(valid: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const bytes = encoder.encode(serialize(valid));
  return fc
    .tuple(fc.constantFrom(...INVALID_UTF8), fc.integer({ min: 1, max: bytes.length - 1 }))
    .map(([sequence, at]) => ({
      body: new Uint8Array([...bytes.subarray(0, at), ...sequence, ...bytes.subarray(at)]),
      expect: INVALID_REQUEST,
    }));
}

/** The share of every endpoint's mix that no parser reads as a request: bytes that are not UTF-8, or text that is no request. */
function unreadable(valid: Record<string, unknown>) {
  return [
    { weight: 1, arbitrary: invalidUtf8(valid) },
    { weight: 1, arbitrary: notWellFormed(valid) },
    { weight: 2, arbitrary: notARequest(valid) },
  ];
}

const LONE_SURROGATES = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\uD83D"];

/**
 * The valid request with a lone surrogate escape (valid JSON, valid UTF-8) inside one of its
 * strings or keys, at any depth: issue 12.2, refused before anything is written.
 */
function notWellFormed(valid: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const whole = serialize(valid);
  // Just after an opening quote: inside a key or a string value, never inside a number.
  const quotes = [...whole.matchAll(/"/g)].map((m) => m.index).filter((_, k) => k % 2 === 0);
  return fc
    .tuple(fc.constantFrom(...quotes), fc.constantFrom(...LONE_SURROGATES))
    .map(([at, surrogate]) => ({
      body: whole.slice(0, at + 1) + surrogate + whole.slice(at + 1),
      expect: INVALID_REQUEST,
    }));
}

/** True if `text` parses as JSON holding a string or key that is not well-formed: the wallet must answer 400 for it. */
function holdsIllFormedString(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return false;
  }
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === "string" && !next.isWellFormed()) return true;
    if (next !== null && typeof next === "object") {
      for (const [key, inner] of Object.entries(next)) {
        if (!key.isWellFormed()) return true;
        stack.push(inner);
      }
    }
  }
  return false;
}

/** Not a JSON request at all: a cut-off valid body, text, another JSON value, deep nesting. */
function notARequest(valid: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const whole = serialize(valid);
  return fc
    .oneof(
      fc.integer({ min: 0, max: whole.length - 1 }).map((length) => whole.slice(0, length)),
      fc.constantFrom(
        "",
        " ",
        "\n\t",
        "null",
        "true",
        "0",
        '""',
        "[]",
        "{}",
        "[{}]",
        "{",
        "}",
        "{}{}",
        '{"a":1}garbage',
        whole + whole,
      ),
      text(0, 200),
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      deepNesting(30_000, fc.boolean()).map((raw) => raw.text),
    )
    .map((body) => ({ body, expect: INVALID_REQUEST }));
}

// ---- Signatures, headers, size ---------------------------------------------------------------

type Signing =
  | { kind: "good" }
  | { kind: "none" }
  | { kind: "wrong-key" }
  | { kind: "other-body" }
  | { kind: "truncated"; keep: number }
  | { kind: "flipped"; at: number }
  | { kind: "garbage"; value: string }
  | { kind: "admin-bearer" }
  /** A valid key of the wallet, but another brand's (brand-a's): the fuzz's players are not its. */
  | { kind: "other-brand" };

const signing: fc.Arbitrary<Signing> = fc.oneof(
  { weight: 90, arbitrary: fc.constant({ kind: "good" as const }) },
  { weight: 8, arbitrary: fc.constant({ kind: "other-brand" as const }) },
  {
    weight: 10,
    arbitrary: fc.oneof(
      fc.constant({ kind: "none" as const }),
      fc.constant({ kind: "wrong-key" as const }),
      fc.constant({ kind: "other-body" as const }),
      fc.integer({ min: 0, max: 63 }).map((keep) => ({ kind: "truncated" as const, keep })),
      fc.integer({ min: 0, max: 63 }).map((at) => ({ kind: "flipped" as const, at })),
      printable(100).map((value) => ({ kind: "garbage" as const, value })),
      fc.constant({ kind: "admin-bearer" as const }),
    ),
  },
);

async function signatureHeader(bytes: Uint8Array, how: Signing): Promise<string | null> {
  const secret = env.WALLET_HMAC_SECRET;
  switch (how.kind) {
    case "good":
      return signBody(bytes, secret);
    case "none":
    case "admin-bearer":
      return null;
    case "wrong-key":
      return signBody(bytes, "not-the-wallet-secret-0123456789");
    case "other-body":
      return signBody(new Uint8Array([...bytes, 0x20]), secret);
    case "truncated":
      return (await signBody(bytes, secret)).slice(0, how.keep);
    case "flipped": {
      const hex = await signBody(bytes, secret);
      const flipped = ((parseInt(hex.charAt(how.at), 16) + 1) % 16).toString(16);
      return hex.slice(0, how.at) + flipped + hex.slice(how.at + 1);
    }
    case "garbage":
      return how.value;
    case "other-brand":
      return signBody(bytes, OTHER_BRAND_KEY);
  }
}

const OTHER_BRAND_KEY = (JSON.parse(env.WALLET_HMAC_SECRETS) as Record<string, string>)[
  "brand-a"
] as string;

const contentType = fc.constantFrom(
  null,
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/json; charset=iso-8859-1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=zz",
  "application/xml",
  "*/*",
);

/** The index echoes a plain X-Request-Id into the log and the answer, and replaces any other. */
const requestId = fc.option(printable(200));

/** Above the cap: mostly the lowest cap the config allows (cheap), sometimes the deployed one. */
/** Above the cap, sent with a Content-Length or streamed without one (chunked: issue 12.3). */
type Oversize = { capBytes: number; over: number; streamed: boolean };

/** The body cut or padded with spaces to `over` bytes past the cap the case sets. */
function padded(bytes: Uint8Array, oversize: Oversize): Uint8Array {
  const body = new Uint8Array(oversize.capBytes + oversize.over);
  body.fill(0x20);
  body.set(bytes.subarray(0, Math.min(bytes.length, body.length)));
  return body;
}

function oversize(): fc.Arbitrary<Oversize | null> {
  return fc.oneof(
    { weight: 950, arbitrary: fc.constant(null) },
    {
      weight: 49,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 50_000 }), fc.boolean())
        .map(([over, streamed]) => ({ capBytes: SMALL_CAP_BYTES, over, streamed })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean())
        .map(([over, streamed]) => ({ capBytes: Number(env.MAX_BODY_BYTES), over, streamed })),
    },
  );
}

/** `bytes` as a stream of small chunks, without a Content-Length. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const CHUNK_BYTES = 4096;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + CHUNK_BYTES));
      offset += CHUNK_BYTES;
    },
  });
}

interface Case {
  body: BodyCase;
  signing: Signing;
  contentType: string | null;
  requestId: string | null;
  oversize: Oversize | null;
}

function requests(bodies: fc.Arbitrary<BodyCase>): fc.Arbitrary<Case> {
  return fc.record({ body: bodies, signing, contentType, requestId, oversize: oversize() });
}

/**
 * A refusal that depends on the player (funds, currency) is recorded with its id, so that a copy
 * gets the same answer. The templates' ids are fixed when the arbitraries are built, so each case
 * gets ids of its own, or it would meet an earlier case's refusal instead of its own.
 */
function withFreshIds<C extends { body: BodyCase }>(c: C): C {
  if (typeof c.body.body !== "string") return c;
  const fresh = new Map<string, string>();
  const renamed = (id: string) => fresh.get(id) ?? fresh.set(id, uniqueId("fuzz")).get(id) ?? id;
  return {
    ...c,
    body: { ...c.body, body: c.body.body.replace(/fuzz_[a-z0-9]+_[0-9]+_[a-z0-9]+/g, renamed) },
  };
}

/** Sends a case (signed as it says) and answers what the refusal must be, when it is known exactly. */
async function sendCase(
  method: string,
  path: string,
  c: Case,
): Promise<{ answer: Answer; expect: Expect | undefined }> {
  let bytes = typeof c.body.body === "string" ? encoder.encode(c.body.body) : c.body.body;
  let vars: Partial<Cloudflare.Env> = c.body.vars ?? {};
  // A lone surrogate anywhere (a noise key too) is refused before any other check of the content.
  let expect = holdsIllFormedString(bytes) ? INVALID_REQUEST : c.body.expect;
  // Signed with another brand's key: the signature is good, and the request is refused as
  // invalid, or as 404 PLAYER_NOT_FOUND where the player's object would have judged it (amount
  // decimals, funds, currency): either way a 4xx in the error format, and D1 as it was.
  if (c.signing.kind === "other-brand") expect = undefined;
  else if (c.signing.kind !== "good") expect = { status: 401, code: "INVALID_SIGNATURE" };
  if (c.oversize) {
    bytes = padded(bytes, c.oversize);
    vars = { MAX_BODY_BYTES: String(c.oversize.capBytes) };
    // The size is checked before the signature and before any parsing.
    expect = { status: 413, code: "BODY_TOO_LARGE" };
  }
  const headers = new Headers();
  if (c.contentType !== null) headers.set("content-type", c.contentType);
  if (c.requestId !== null) headers.set("x-request-id", c.requestId);
  const signature = await signatureHeader(bytes, c.signing);
  if (signature !== null) headers.set("x-server-authorization", signature);
  if (c.signing.kind === "admin-bearer") headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  const body = c.oversize?.streamed ? chunked(bytes) : bytes;
  return { answer: await sendRaw(path, { method, headers, body }, vars), expect };
}

/** A 4xx in the spec's error format; and, when the case says which refusal, that one. */
function assertRefused(answer: Answer, expected: Expect | undefined): void {
  const body = answer.body;
  const shaped =
    typeof body?.code === "string" &&
    typeof body?.message === "string" &&
    Object.keys(body).every((key) => key === "code" || key === "message" || key === "balance") &&
    /^application\/json\b/.test(answer.headers.get("content-type") ?? "");
  const matches = expected
    ? answer.status === expected.status && body?.code === expected.code
    : answer.status >= 400 && answer.status < 500;
  if (!shaped || !matches) {
    throw new Error(
      `expected ${expected ? `${expected.status} ${expected.code}` : "a 4xx"} in the error format, got ${answer.status} ` +
        `${answer.headers.get("content-type")} ${answer.text.slice(0, 300)}`,
    );
  }
}

// ---- A property: every answer a refusal, and D1 as it was before ------------------------------

async function fuzz<C>(
  seed: number,
  cases: fc.Arbitrary<C>,
  send: (c: C) => Promise<{ answer: Answer; expect: Expect | undefined }>,
  snapshot: () => Promise<unknown> = databaseSnapshot,
): Promise<void> {
  const before = await snapshot();
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      const { answer, expect } = await send(c);
      assertRefused(answer, expect);
    }),
    { seed, numRuns: RUNS },
  );
  expect(await snapshot()).toEqual(before);
}

// ---- Fixtures --------------------------------------------------------------------------------

let rich: TestPlayer;
let yen: TestPlayer;
let rival: TestPlayer;
/** An applied Debit of `rich`: a valid cancel would reverse it. */
let richTx: string;
let logSpy: MockInstance<typeof console.log>;

beforeAll(async () => {
  // One log line per request, tens of thousands of times, would cost more than the requests.
  logSpy = vi.spyOn(console, "log").mockImplementation(() => {});
  rich = await newPlayer({ balance: "1000.00" });
  yen = await newPlayer({ currency: "JPY", balance: "100000" });
  rival = await newPlayer({ operator_id: "rival-op", brand_id: "rival-brand" });
  richTx = uniqueId("fuzz-tx");
  const applied = await transact(rich.playerId, { transaction_id: richTx, amount: "1.00" });
  if (applied.status !== 200) throw new Error(`fixture debit failed: ${applied.text}`);
});

afterAll(() => logSpy.mockRestore());

/**
 * Player ids no player has, a few of them near misses of a real one. A fixed set, because each
 * new id starts a Durable Object and every new object makes the next one slower here.
 */
function ghostIds(): fc.Arbitrary<string> {
  const id = rich.playerId;
  return fc.oneof(
    {
      weight: 9,
      arbitrary: fc.constantFrom(
        id.toUpperCase(),
        ` ${id}`,
        `${id} `,
        `${id}\u0000`,
        `${id}\ud800`,
        id.slice(0, -1),
        "\ud800",
        "👾",
        "e\u0301",
        "nobody",
        `../${id}`,
        "%00",
      ),
    },
    {
      weight: 1,
      arbitrary: text(1, 40).filter((s) => s !== id && s !== yen.playerId && s !== rival.playerId),
    },
  );
}

/** A valid Debit or Credit of 1 unit: applied if nothing in the case broke it. */
function transactionTemplate(
  player: TestPlayer,
  type: "Debit" | "Credit",
): Record<string, unknown> {
  return {
    player_id: player.playerId,
    transaction_id: uniqueId("fuzz"),
    transaction_type: type,
    provider_id: "thrillpots",
    amount: player.currency === "JPY" ? "1" : "1.00",
    currency: player.currency,
    round_id: "r-1",
  };
}

const ID = { required: true, nullable: false, minLength: 1, maxLength: 255 };

function transactionFields(player: TestPlayer, withRefused: boolean): fc.Arbitrary<Mutation> {
  const exponent = player.currency === "JPY" ? 0 : 2;
  return fc.oneof(
    mutations(
      "player_id",
      { ...ID, refused: { values: ghostIds(), expect: { status: 404, code: "PLAYER_NOT_FOUND" } } },
      withRefused,
    ),
    mutations("transaction_id", ID),
    // Any other string is refused by the schema, and "None" (with an amount of 1) by the wallet:
    // both INVALID_REQUEST.
    mutations(
      "transaction_type",
      {
        ...ID,
        refused: {
          values: fc.oneof(
            fc.constant("None"),
            text(1, 20).filter((s) => !["Debit", "Credit", "None"].includes(s)),
          ),
          expect: INVALID_REQUEST,
        },
      },
      withRefused,
    ),
    mutations("provider_id", ID),
    mutations(
      "amount",
      {
        required: true,
        nullable: false,
        minLength: 0,
        maxLength: 64,
        refused: { values: badAmounts(exponent), expect: INVALID_REQUEST },
      },
      withRefused,
    ),
    mutations(
      "currency",
      {
        required: false,
        nullable: true,
        minLength: 1,
        maxLength: 16,
        refused: {
          values: fc
            .oneof(fc.constantFrom("USD", "eur", "EUR ", "JPY", "XXX"), text(1, 16))
            .filter((s) => s !== player.currency),
          expect: { status: 400, code: "CURRENCY_MISMATCH" },
        },
      },
      withRefused,
    ),
  );
}

// ---- The properties --------------------------------------------------------------------------

describe(`fuzzing: ${RUNS} invalid requests per wallet endpoint, all refused with a 4xx and nothing changed`, () => {
  it(
    `POST /wallet/authenticate (seed ${SEEDS.authenticate})`,
    async () => {
      const valid = {
        operator_id: rich.operatorId,
        brand_id: rich.brandId,
        player_token: rich.token,
        source_id: "game1",
        currency: "EUR",
      };
      const invalidToken = { status: 401, code: "INVALID_TOKEN" };
      // The rival's operator and token appear, never its brand: no mix of fields may form a valid request.
      const others = (right: string, extra: string[]) =>
        fc
          .oneof(
            fc.constantFrom(
              ...extra,
              right.toUpperCase(),
              ` ${right}`,
              `${right} `,
              `${right}\u0000`,
              right.slice(1),
            ),
            text(1, 40),
          )
          .filter((s) => s !== right);
      const fields = fc.oneof(
        mutations("operator_id", {
          ...ID,
          refused: { values: others(valid.operator_id, [rival.operatorId]), expect: invalidToken },
        }),
        mutations("brand_id", {
          ...ID,
          refused: { values: others(valid.brand_id, ["brand2"]), expect: invalidToken },
        }),
        mutations("player_token", {
          ...ID,
          maxLength: 512,
          refused: { values: others(valid.player_token, [rival.token]), expect: invalidToken },
        }),
        mutations("source_id", { required: false, nullable: true, minLength: 0, maxLength: 255 }),
        mutations("currency", {
          ...ID,
          maxLength: 16,
          refused: {
            values: fc
              .oneof(fc.constantFrom("USD", "eur", "JPY"), text(1, 16))
              .filter((s) => s !== "EUR"),
            expect: { status: 400, code: "CURRENCY_MISMATCH" },
          },
        }),
      );
      const bodies = fc.oneof(
        { weight: 14, arbitrary: brokenFields(valid, fields) },
        { weight: 1, arbitrary: duplicateKey(valid) },
        ...unreadable(valid),
      );
      await fuzz(SEEDS.authenticate, requests(bodies), (c) =>
        sendCase("POST", "/wallet/authenticate", c),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `GET /wallet/balance with a fuzzed query string (seed ${SEEDS.balance})`,
    async () => {
      // Names that never read as player_id once decoded.
      const otherName = fc
        .oneof(
          fc.constantFrom(
            "Player_id",
            "player_id ",
            "playerId",
            "player-id",
            "player_id[]",
            "player",
            "id",
          ),
          text(0, 12),
        )
        .filter((name) => name !== "player_id");
      const noiseParams = fc.array(
        fc.tuple(otherName, fc.oneof(text(0, 20), fc.constant(rich.playerId))),
        { maxLength: 3 },
      );
      const playerNotFound = { status: 404, code: "PLAYER_NOT_FOUND" };
      // The router folds repeated parameters into an array, and drops an empty first one.
      // Unknown ids cost a Durable Object call each, so they are the smaller share.
      const primary: fc.Arbitrary<{ query: string; expect: Expect }> = fc.oneof(
        { weight: 4, arbitrary: fc.constant({ query: "", expect: INVALID_REQUEST }) },
        {
          weight: 4,
          arbitrary: fc
            .constantFrom("player_id=", "player_id", "player_id=&player_id=")
            .map((query) => ({ query, expect: INVALID_REQUEST })),
        },
        {
          weight: 4,
          arbitrary: tooLong(255).map((id) => ({
            query: new URLSearchParams([["player_id", id]]).toString(),
            expect: INVALID_REQUEST,
          })),
        },
        {
          weight: 4,
          arbitrary: fc
            .array(fc.oneof(fc.constant(rich.playerId), text(1, 20)), {
              minLength: 2,
              maxLength: 4,
            })
            .map((ids) => ({
              query: new URLSearchParams(ids.map((id) => ["player_id", id])).toString(),
              expect: INVALID_REQUEST,
            })),
        },
        {
          weight: 1,
          arbitrary: ghostIds().map((id) => ({
            query: new URLSearchParams([["player_id", id]]).toString(),
            expect: playerNotFound,
          })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom("%zz", "%", "%E0%A4", "%ED%A0%80", "%FF", `${rich.playerId}%2`)
            .map((raw) => ({ query: `player_id=${raw}`, expect: INVALID_REQUEST })),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(`${rich.playerId}%00`, `${rich.playerId}%F0%9F%98%80`, "%C3%A9")
            .map((raw) => ({ query: `player_id=${raw}`, expect: playerNotFound })),
        },
      );
      const cases = fc.record({
        primary,
        noise: noiseParams,
        noiseFirst: fc.boolean(),
        signing,
        contentType,
        requestId,
      });
      const before = await databaseSnapshot();
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const noise = new URLSearchParams(c.noise).toString();
          const parts = (c.noiseFirst ? [noise, c.primary.query] : [c.primary.query, noise]).filter(
            (part) => part !== "",
          );
          const headers = new Headers();
          if (c.contentType !== null) headers.set("content-type", c.contentType);
          if (c.requestId !== null) headers.set("x-request-id", c.requestId);
          // The signature of a GET is that of the empty body; "other-body" signs the path and query instead.
          const path = `/wallet/balance?${parts.join("&")}`;
          const signature =
            c.signing.kind === "other-body"
              ? await signBody(path, env.WALLET_HMAC_SECRET)
              : await signatureHeader(new Uint8Array(0), c.signing);
          if (signature !== null) headers.set("x-server-authorization", signature);
          if (c.signing.kind === "admin-bearer")
            headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
          const answer = await sendRaw(path, { method: "GET", headers });
          // Another brand's key is a good signature: the query is judged before the player is, and
          // a player not of that brand is answered as one that does not exist.
          assertRefused(
            answer,
            c.signing.kind === "good" || c.signing.kind === "other-brand"
              ? c.primary.expect
              : { status: 401, code: "INVALID_SIGNATURE" },
          );
        }),
        { seed: SEEDS.balance, numRuns: RUNS },
      );
      expect(await databaseSnapshot()).toEqual(before);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `POST /wallet/transaction (seed ${SEEDS.transaction})`,
    async () => {
      const overdraw = fc.integer({ min: 100_001, max: 99_999_999 }).map((cents) => ({
        body: serialize({
          ...transactionTemplate(rich, "Debit"),
          amount: (cents / 100).toFixed(2),
        }),
        expect: { status: 402, code: "INSUFFICIENT_FUNDS" },
      }));
      const valid = transactionTemplate(rich, "Credit");
      const bodies = fc.oneof(
        {
          weight: 10,
          arbitrary: brokenFields(
            transactionTemplate(rich, "Credit"),
            transactionFields(rich, true),
          ),
        },
        {
          weight: 2,
          arbitrary: brokenFields(transactionTemplate(yen, "Credit"), transactionFields(yen, true)),
        },
        {
          weight: 2,
          arbitrary: brokenFields(
            transactionTemplate(rich, "Debit"),
            transactionFields(rich, true),
          ),
        },
        { weight: 1, arbitrary: overdraw },
        { weight: 1, arbitrary: duplicateKey(valid) },
        ...unreadable(valid),
      );
      await fuzz(SEEDS.transaction, requests(bodies), (c) =>
        sendCase("POST", "/wallet/transaction", withFreshIds(c)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `DELETE /wallet/cancel (seed ${SEEDS.cancel})`,
    async () => {
      // Valid as it stands: it would reverse richTx.
      const valid = { transaction_id: richTx, player_id: rich.playerId };
      const fields = fc.oneof(
        { weight: 5, arbitrary: mutations("transaction_id", ID) },
        {
          weight: 5,
          arbitrary: mutations("player_id", {
            ...ID,
            nullable: true,
            required: false,
            refused: { values: ghostIds(), expect: { status: 404, code: "PLAYER_NOT_FOUND" } },
          }),
        },
        // richTx is not the other player's to cancel.
        {
          weight: 1,
          arbitrary: fc.constant({
            field: "player_id",
            value: yen.playerId,
            schema: false,
            expect: INVALID_REQUEST,
          }),
        },
      );
      const bodies = fc.oneof(
        { weight: 14, arbitrary: brokenFields(valid, fields) },
        { weight: 1, arbitrary: duplicateKey(valid) },
        ...unreadable(valid),
      );
      await fuzz(SEEDS.cancel, requests(bodies), (c) => sendCase("DELETE", "/wallet/cancel", c));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `POST /wallet/transaction/batch (seed ${SEEDS.transactionBatch})`,
    async () => {
      // Items other than the broken one are valid Credits: a batch refused whole applies none of them.
      const items = fc
        .integer({ min: 1, max: 4 })
        .map((n) => Array.from({ length: n }, () => transactionTemplate(rich, "Credit")));
      const envelope = (list: unknown[], batchId: unknown, bare: boolean) =>
        bare && batchId === MISSING ? list : { batch_id: batchId, transactions: list };
      const batchIds = fc.oneof(fc.constant(MISSING), fc.constant(null), fc.constant("fuzz-batch"));
      // Per-item refusals (unknown player, bad amount…) answer 200 with the item in ERROR, so only
      // whole-batch breaks belong here: a schema break in one item, the envelope, the size, a conflicting id.
      const brokenItem = fc
        .tuple(
          items,
          fc.nat(),
          brokenFields(transactionTemplate(rich, "Credit"), transactionFields(rich, false)),
          batchIds,
          fc.boolean(),
        )
        .map(([list, at, item, batchId, bare]) => {
          const parts = list.map((entry) => new Raw(serialize(entry)));
          parts.splice(at % (parts.length + 1), 0, new Raw(item.body));
          return { body: serialize(envelope(parts, batchId, bare)), expect: INVALID_REQUEST };
        });
      const brokenEnvelope = fc.oneof(
        fc
          .tuple(items, mutations("batch_id", { ...ID, required: false, nullable: true }))
          .map(([list, m]) => ({
            body: serialize({ batch_id: m.value, transactions: list }),
            expect: INVALID_REQUEST,
          })),
        fc.oneof(fc.constant(MISSING), fc.constant([]), notAList).map((list) => ({
          body: serialize({ batch_id: "fuzz-batch", transactions: list }),
          expect: INVALID_REQUEST,
        })),
      );
      const emptyOrNotItems = fc
        .oneof(
          fc.constant([]),
          fc.array(fc.oneof(fc.jsonValue({ maxDepth: 1 }), deepNesting()), {
            minLength: 1,
            maxLength: 3,
          }),
        )
        .map((list) => ({
          body: serialize(list),
          expect: INVALID_REQUEST,
        }));
      const tooMany = fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
        .map(([max, over]) => ({
          body: serialize({
            transactions: Array.from({ length: max + over }, () =>
              transactionTemplate(rich, "Credit"),
            ),
          }),
          expect: INVALID_REQUEST,
          vars: { MAX_BATCH_SIZE: String(max) },
        }));
      const conflicting = fc
        .constantFrom<[string, unknown]>(
          ["amount", "2.00"],
          ["transaction_type", "Debit"],
          ["player_id", yen.playerId],
        )
        .map(([field, value]) => {
          const first = transactionTemplate(rich, "Credit");
          return {
            body: serialize({
              transactions: [
                first,
                transactionTemplate(rich, "Credit"),
                { ...first, [field]: value },
              ],
            }),
            expect: { status: 409, code: "DUPLICATE_TRANSACTION" },
          };
        });
      const [first, second] = [
        transactionTemplate(rich, "Credit"),
        transactionTemplate(rich, "Credit"),
      ];
      const valid = { batch_id: "fuzz-batch", transactions: [first, second] };
      const bodies = fc.oneof(
        { weight: 8, arbitrary: brokenItem },
        { weight: 3, arbitrary: brokenEnvelope },
        { weight: 1, arbitrary: emptyOrNotItems },
        { weight: 1, arbitrary: tooMany },
        { weight: 1, arbitrary: conflicting },
        {
          weight: 1,
          arbitrary: duplicateKey(second, (doubled) => ({
            ...valid,
            transactions: [first, doubled],
          })),
        },
        ...unreadable(valid),
      );
      await fuzz(SEEDS.transactionBatch, requests(bodies), (c) =>
        sendCase("POST", "/wallet/transaction/batch", c),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `DELETE /wallet/transaction/batch (seed ${SEEDS.cancelBatch})`,
    async () => {
      const item = { transaction_id: richTx, player_id: rich.playerId };
      // Valid as it stands: it would reverse richTx.
      const valid = { batch_id: "fuzz-cancel-batch", transactions: [item] };
      const itemFields = fc.oneof(
        mutations("transaction_id", ID),
        mutations("player_id", { ...ID, required: false, nullable: true }),
      );
      const brokenItem = fc
        .tuple(
          fc.nat(3),
          fc.nat(),
          brokenFields(item, itemFields),
          fc.constantFrom<unknown>(MISSING, null, "fuzz-cancel-batch"),
          fc.boolean(),
        )
        .map(([others, at, broken, batchId, bare]) => {
          const parts: unknown[] = Array.from({ length: others }, () => item);
          parts.splice(at % (parts.length + 1), 0, new Raw(broken.body));
          return {
            body: serialize(
              bare && batchId === MISSING ? parts : { batch_id: batchId, transactions: parts },
            ),
            expect: INVALID_REQUEST,
          };
        });
      const brokenEnvelope = fc.oneof(
        // Neither items nor a batch id: nothing named to cancel.
        fc
          .constantFrom(
            {},
            { transactions: [] },
            { batch_id: null },
            { batch_id: null, transactions: [] },
            [],
          )
          .map((body) => ({ body: serialize(body), expect: INVALID_REQUEST })),
        mutations("batch_id", { ...ID, required: false, nullable: true }).map((m) => ({
          body: serialize({ ...valid, batch_id: m.value }),
          expect: INVALID_REQUEST,
        })),
        // With a batch_id, no list (or an empty one) is valid: it names the batch's own transactions.
        notAList.map((list) => ({
          body: serialize({ ...valid, transactions: list }),
          expect: INVALID_REQUEST,
        })),
      );
      const tooMany = fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
        .map(([max, over]) => ({
          body: serialize({ transactions: Array.from({ length: max + over }, () => item) }),
          expect: INVALID_REQUEST,
          vars: { MAX_BATCH_SIZE: String(max) },
        }));
      const bodies = fc.oneof(
        { weight: 8, arbitrary: brokenItem },
        { weight: 4, arbitrary: brokenEnvelope },
        { weight: 1, arbitrary: tooMany },
        {
          weight: 1,
          arbitrary: duplicateKey(item, (doubled) => ({ ...valid, transactions: [doubled] })),
        },
        { weight: 1, arbitrary: duplicateKey(valid) },
        ...unreadable(valid),
      );
      await fuzz(SEEDS.cancelBatch, requests(bodies), (c) =>
        sendCase("DELETE", "/wallet/transaction/batch", c),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});

// ---- The operator's bodies (issue 13): transfers and status changes -------------------------
//
// The admin routes take the bearer token instead of a signature, and their own bodies. The same
// building blocks break them; every answer must be a 4xx in the flat error format, and no balance,
// ledger entry, applied id, session or player status may change.

const ADMIN_SEEDS = { transfer: 0x5eed_0007, status: 0x5eed_0008 };
const PLAYER_NOT_FOUND: Expect = { status: 404, code: "PLAYER_NOT_FOUND" };

/** The Authorization header as sent: the admin token, or one of the ways to get it wrong. */
const adminAuthorization: fc.Arbitrary<{ good: boolean; header: string | null; hmac: boolean }> =
  fc.oneof(
    { weight: 90, arbitrary: fc.constant({ good: true, header: null, hmac: false }) },
    {
      weight: 10,
      arbitrary: fc.oneof(
        fc
          .constantFrom(
            (t: string) => `bearer ${t}`,
            (t: string) => `Bearer  ${t}`,
            (t: string) => `Basic ${t}`,
            (t: string) => t,
            (t: string) => `Bearer ${t.slice(0, -1)}`,
            (t: string) => `Bearer ${t}x`,
            (t: string) => `Bearer ${t.toUpperCase()}`,
            (t: string) => `Bearer ${t},Bearer ${t}`,
            () => "Bearer",
          )
          .map((wrong) => ({ good: false, header: wrong(env.ADMIN_TOKEN), hmac: false })),
        printable(100).map((header) => ({ good: false, header, hmac: false })),
        // ThrillGate's signature is no admin credential.
        fc.constant({ good: false, header: null, hmac: true }),
      ),
    },
  );

/** Whose path the request names: the fixture player, one nobody has, or an id that does not decode. */
type Target =
  | { kind: "player"; player: TestPlayer }
  | { kind: "ghost"; segment: string }
  | { kind: "undecodable"; segment: string };

function otherTargets(): fc.Arbitrary<Target> {
  return fc.oneof(
    ghostIds()
      .filter((id) => id.isWellFormed() && id !== "." && id !== "..")
      .map((id) => ({ kind: "ghost" as const, segment: encodeURIComponent(id) })),
    fc
      .oneof(
        fc.constantFrom("%zz", "%", "%E0%A4", "%ED%A0%80", "%FF", "%C0%80"),
        tooLong(255)
          .filter((id) => id.isWellFormed())
          .map((id) => encodeURIComponent(id)),
      )
      .map((segment) => ({ kind: "undecodable" as const, segment })),
  );
}

interface AdminCase {
  target: Target;
  body: BodyCase;
  /** The body would be applied as it stands: only ever sent to a player nobody has. */
  valid: boolean;
  auth: { good: boolean; header: string | null; hmac: boolean };
  contentType: string | null;
  oversize: Oversize | null;
}

/** Broken bodies for `player`, and now and then any body (even a valid one) for a wrong path. */
function adminRequests(
  broken: fc.Arbitrary<{ body: BodyCase; player: TestPlayer }>,
  valid: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<AdminCase> {
  const elsewhere = fc
    .tuple(
      otherTargets(),
      fc.oneof(
        valid.map((body) => ({ body: { body: serialize(body), expect: undefined }, valid: true })),
        broken.map(({ body }) => ({ body, valid: false })),
      ),
    )
    .map(([target, { body, valid }]) => ({ target, body, valid }));
  const targeted = fc.oneof(
    {
      weight: 14,
      arbitrary: broken.map(({ body, player }) => ({
        target: { kind: "player" as const, player },
        body,
        valid: false,
      })),
    },
    { weight: 1, arbitrary: elsewhere },
  );
  return fc
    .tuple(targeted, adminAuthorization, contentType, oversize())
    .map(([t, auth, contentType, oversize]) => ({ ...t, auth, contentType, oversize }));
}

function segmentOf(target: Target): string {
  return target.kind === "player" ? encodeURIComponent(target.player.playerId) : target.segment;
}

/** What the wallet must answer: size, then the token, then the path, then the body. */
function adminExpect(c: AdminCase, bytes: Uint8Array): Expect | undefined {
  if (c.oversize) return { status: 413, code: "BODY_TOO_LARGE" };
  if (!c.auth.good) return { status: 401, code: "UNAUTHORIZED" };
  if (c.target.kind === "undecodable") return INVALID_REQUEST;
  // A player nobody has with a broken body: which of the two is refused first is the wallet's business.
  if (c.target.kind === "ghost") return c.valid ? PLAYER_NOT_FOUND : undefined;
  return holdsIllFormedString(bytes) ? INVALID_REQUEST : c.body.expect;
}

async function sendAdminCase(
  method: string,
  path: (segment: string) => string,
  c: AdminCase,
): Promise<{ answer: Answer; expect: Expect | undefined }> {
  let bytes = typeof c.body.body === "string" ? encoder.encode(c.body.body) : c.body.body;
  const expect = adminExpect(c, bytes);
  let vars: Partial<Cloudflare.Env> = c.body.vars ?? {};
  if (c.oversize) {
    bytes = padded(bytes, c.oversize);
    vars = { MAX_BODY_BYTES: String(c.oversize.capBytes) };
  }
  const headers = new Headers();
  if (c.contentType !== null) headers.set("content-type", c.contentType);
  if (c.auth.good) headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  else if (c.auth.header !== null) headers.set("authorization", c.auth.header);
  if (c.auth.hmac)
    headers.set("x-server-authorization", await signBody(bytes, env.WALLET_HMAC_SECRET));
  const body = c.oversize?.streamed ? chunked(bytes) : bytes;
  const answer = await sendRaw(path(segmentOf(c.target)), { method, headers, body }, vars);
  return { answer, expect };
}

/** databaseSnapshot, and every player's status. */
async function adminSnapshot(): Promise<unknown> {
  const statuses = await env.DB.prepare(
    "SELECT group_concat(id || '=' || status, ',') AS statuses FROM (SELECT id, status FROM players ORDER BY id)",
  ).first();
  return { ...(await databaseSnapshot()), ...statuses };
}

/** The operator's routes also change player status: the snapshot holds it too. */
function fuzzAdmin(
  seed: number,
  cases: fc.Arbitrary<AdminCase>,
  send: (c: AdminCase) => ReturnType<typeof sendAdminCase>,
): Promise<void> {
  return fuzz(seed, cases, send, adminSnapshot);
}

/** A value of a field that takes one of `allowed`: anything else, near misses first. */
function notOneOf(field: string, allowed: string[]): fc.Arbitrary<Mutation> {
  const nearMisses = allowed.flatMap((word) => [
    word.toUpperCase(),
    word[0]?.toUpperCase() + word.slice(1),
    ` ${word}`,
    `${word} `,
    `${word}\u0000`,
    `${word}\ud800`,
    word.slice(0, -1),
    `${word}s`,
    word.replace("a", "\u0430").replace("i", "\u0131"), // Cyrillic a, dotless i
    word.normalize("NFD").replace(/./u, (c) => `${c}\u0301`),
  ]);
  return fc
    .oneof(
      fc.constantFrom(MISSING, null, "", ...nearMisses),
      wrongType(true),
      tooLong(20),
      text(1, 20),
    )
    .filter((value) => typeof value !== "string" || !allowed.includes(value))
    .map((value) => ({ field, value, schema: true, expect: INVALID_REQUEST }));
}

/** A valid transfer of 1 unit: applied if nothing in the case broke it. */
function transferTemplate(player: TestPlayer, direction: "in" | "out"): Record<string, unknown> {
  return {
    transfer_id: uniqueId("fuzz"),
    direction,
    amount: player.currency === "JPY" ? "1" : "1.00",
    reason: "fuzz",
  };
}

function transferFields(player: TestPlayer): fc.Arbitrary<Mutation> {
  const exponent = player.currency === "JPY" ? 0 : 2;
  // A transfer moves money: zero is no amount, in any spelling.
  const zeros = fc.oneof(
    fc.constantFrom("0", "0.00", "0.0", "000", "0.", exponent === 0 ? "0" : "0.000"),
    fc.constantFrom("0", "0.00", "-0", "0e5").map((t) => new Raw(t)),
  );
  return fc.oneof(
    mutations("transfer_id", ID),
    notOneOf("direction", ["in", "out"]),
    mutations("amount", {
      required: true,
      nullable: false,
      minLength: 0,
      maxLength: 64,
      refused: { values: fc.oneof(badAmounts(exponent), zeros), expect: INVALID_REQUEST },
    }),
    mutations("reason", {
      required: false,
      nullable: true,
      minLength: 0,
      maxLength: MAX_REASON_LENGTH,
    }),
  );
}

describe(`fuzzing: ${RUNS} invalid requests per operator body, all refused with a 4xx and nothing changed`, () => {
  /** A closed player (balance 0): a transfer in is refused, and out finds nothing to take. */
  let closed: TestPlayer;

  beforeAll(async () => {
    closed = await newPlayer({ balance: "0.00" });
    const patched = await admin("PATCH", `/admin/players/${closed.playerId}`, {
      status: "closed",
    });
    if (patched.status !== 200) throw new Error(`closing the fixture failed: ${patched.text}`);
  });

  it(
    `POST /admin/players/{player_id}/transfers (seed ${ADMIN_SEEDS.transfer})`,
    async () => {
      const own = (player: TestPlayer) => (body: BodyCase) => ({ body, player });
      const refusedWhole = (player: TestPlayer, body: Record<string, unknown>, expect: Expect) => ({
        body: { body: serialize(body), expect },
        player,
      });
      const overdraw = fc
        .integer({ min: 100_001, max: 99_999_999 })
        .map((cents) =>
          refusedWhole(
            rich,
            { ...transferTemplate(rich, "out"), amount: (cents / 100).toFixed(2) },
            { status: 402, code: "INSUFFICIENT_FUNDS" },
          ),
        );
      const toClosed = fc
        .constantFrom<["in" | "out", Expect]>(
          ["in", { status: 403, code: "PLAYER_CLOSED" }],
          ["out", { status: 402, code: "INSUFFICIENT_FUNDS" }],
        )
        .map(([direction, expect]) =>
          refusedWhole(closed, transferTemplate(closed, direction), expect),
        );
      // The one id space: a ThrillGate transaction's id is never a transfer's.
      const takenId = fc
        .constantFrom<"in" | "out">("in", "out")
        .map((direction) =>
          refusedWhole(
            rich,
            { ...transferTemplate(rich, direction), transfer_id: richTx },
            { status: 409, code: "DUPLICATE_TRANSACTION" },
          ),
        );
      // A transfer is in the player's currency, to the player of its path: naming either, even
      // rightly, reads as a choice the wallet does not make, and is refused.
      const choosing = fc
        .tuple(
          fc.constantFrom("currency", "player_id"),
          fc.oneof(
            fc.constantFrom<unknown>("EUR", "USD", null, rich.playerId, yen.playerId),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          fc.constantFrom<"in" | "out">("in", "out"),
        )
        .map(([field, value, direction]) =>
          refusedWhole(
            rich,
            { ...transferTemplate(rich, direction), [field]: value },
            INVALID_REQUEST,
          ),
        );
      const valid = transferTemplate(rich, "in");
      const broken = fc.oneof(
        { weight: 8, arbitrary: brokenFields(valid, transferFields(rich)).map(own(rich)) },
        {
          weight: 3,
          arbitrary: brokenFields(transferTemplate(rich, "out"), transferFields(rich)).map(
            own(rich),
          ),
        },
        {
          weight: 2,
          arbitrary: brokenFields(transferTemplate(yen, "in"), transferFields(yen)).map(own(yen)),
        },
        { weight: 1, arbitrary: overdraw },
        { weight: 1, arbitrary: toClosed },
        { weight: 1, arbitrary: takenId },
        { weight: 1, arbitrary: choosing },
        { weight: 1, arbitrary: duplicateKey(valid).map(own(rich)) },
        ...unreadable(valid).map(({ weight, arbitrary }) => ({
          weight,
          arbitrary: arbitrary.map(own(rich)),
        })),
      );
      const templates = fc
        .constantFrom<["in" | "out", TestPlayer]>(["in", rich], ["out", rich], ["in", yen])
        .map(([direction, player]) => transferTemplate(player, direction));
      await fuzzAdmin(ADMIN_SEEDS.transfer, adminRequests(broken, templates), (c) =>
        sendAdminCase("POST", (segment) => `/admin/players/${segment}/transfers`, withFreshIds(c)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `PATCH /admin/players/{player_id} with a status (seed ${ADMIN_SEEDS.status})`,
    async () => {
      const own = (body: BodyCase) => ({ body, player: rich });
      const STATUSES = ["active", "suspended", "closed"];
      // rich is active: "suspended" would apply, so each case breaks it.
      const valid = { status: "suspended" };
      // A status change names nothing but the status: another field is refused, not ignored.
      const withOthers = fc
        .tuple(
          fc.constantFrom(...STATUSES),
          fc.dictionary(
            fc.oneof(
              fc.constantFrom("balance", "currency", "player_id", "reason", "Status"),
              text(1, 12),
            ),
            fc.jsonValue({ maxDepth: 2 }),
            { minKeys: 1, maxKeys: 3 },
          ),
        )
        .filter(([, others]) => !Object.hasOwn(others, "status"))
        .map(([status, others]) => ({
          body: serialize({ ...others, status }),
          expect: INVALID_REQUEST,
        }));
      // rich holds money: closing it would lose track of it.
      const closing = fc.constant({
        body: serialize({ status: "closed" }),
        expect: { status: 409, code: "BALANCE_NOT_ZERO" },
      });
      const broken = fc.oneof(
        { weight: 10, arbitrary: brokenFields(valid, notOneOf("status", STATUSES)).map(own) },
        { weight: 3, arbitrary: withOthers.map(own) },
        { weight: 1, arbitrary: closing.map(own) },
        { weight: 1, arbitrary: duplicateKey(valid).map(own) },
        ...unreadable(valid).map(({ weight, arbitrary }) => ({
          weight,
          arbitrary: arbitrary.map(own),
        })),
      );
      const templates = fc.constantFrom(...STATUSES).map((status) => ({ status }));
      await fuzzAdmin(ADMIN_SEEDS.status, adminRequests(broken, templates), (c) =>
        sendAdminCase("PATCH", (segment) => `/admin/players/${segment}`, c),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
