import * as z from "zod";
import { parseCidr, type Cidr } from "./auth/source-ip";

// `Env` is generated from wrangler.toml, .dev.vars.example and .dev.vars.optional.example by
// `npm run cf-typegen` (worker-configuration.d.ts); test-node/env-types.test.ts fails when it is stale.

/**
 * Cloudflare's documented Durable Object location hints. A player's object is placed near the
 * hint when it is first created; put it in the region of the D1 primary (`wrangler d1 create
 * --location`) and of ThrillGate's servers: every D1 call of the object is a round trip to that
 * primary (the bench's D1_RTT_MS), and every ThrillGate call one to the object.
 */
export const PLAYER_LOCATION_HINTS = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "apac-ne",
  "apac-se",
  "oc",
  "afr",
  "me",
] as const satisfies readonly DurableObjectLocationHint[];

const LocationHintSchema = z.enum(PLAYER_LOCATION_HINTS).optional();

/** PLAYER_LOCATION_HINT, checked: unset or empty means no hint (Cloudflare places the object near its first caller). */
export function playerLocationHint(env: {
  PLAYER_LOCATION_HINT?: string;
}): DurableObjectLocationHint | undefined {
  const parsed = LocationHintSchema.safeParse(env.PLAYER_LOCATION_HINT || undefined);
  if (!parsed.success)
    throw new Error(
      `invalid configuration: PLAYER_LOCATION_HINT must be one of ${PLAYER_LOCATION_HINTS.join(", ")}`,
    );
  return parsed.data;
}

const secret = z.string().min(16, "secrets must be at least 16 characters");

/** The most brands WALLET_HMAC_SECRETS may list: each is one more HMAC a bad signature costs. */
export const MAX_BRAND_KEYS = 50;

// WALLET_HMAC_SECRETS(_PREVIOUS): a JSON object {"<brand_id>": "<secret>"}. A parse error's text is
// never kept: it may quote the value. Unset or empty means no brand has its own key.
const brandSecrets = z
  .string()
  .optional()
  .transform((text, context) => {
    if (!text) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: "custom", message: "not JSON" });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .record(z.string().min(1), secret)
      .refine((keys) => Object.keys(keys).length <= MAX_BRAND_KEYS, {
        message: `at most ${MAX_BRAND_KEYS} brands`,
      }),
  );

const ConfigSchema = z
  .object({
    WALLET_HMAC_SECRET: secret,
    WALLET_HMAC_SECRET_PREVIOUS: secret.optional(),
    WALLET_HMAC_SECRET_PREVIOUS_UNTIL: z.iso.datetime({ offset: true }).optional(),
    WALLET_HMAC_SECRETS: brandSecrets,
    WALLET_HMAC_SECRETS_PREVIOUS: brandSecrets,
    WALLET_HMAC_SECRETS_PREVIOUS_UNTIL: z.iso.datetime({ offset: true }).optional(),
    ADMIN_TOKEN: secret,
    ACCEPT_ZERO_VALUE_CREDITS: z.stringbool().default(true),
    MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
    // At most 8 s: a call may still finish the page it started (about 1 s, docs/api.md), and must
    // answer inside ThrillGate's request_timeout (10 s by default).
    BATCH_CANCEL_BUDGET_MS: z.coerce.number().int().min(0).max(8000).default(5000),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(1024 * 1024),
    TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
    // Each operation is 2–4 statements of one D1 batch; 1 turns group commit off.
    GROUP_COMMIT_MAX_OPS: z.coerce.number().int().min(1).max(100).default(50),
    // A list that does not parse fails closed (500 on every call), never open.
    ALLOWED_SOURCE_IPS: z
      .string()
      .default("")
      .transform((text, context) => {
        const entries = text
          .split(",")
          .map((entry) => entry.trim())
          .filter((entry) => entry !== "");
        const cidrs = entries.map(parseCidr);
        if (cidrs.some((cidr) => cidr === undefined))
          context.addIssue({ code: "custom", message: "not a list of CIDRs" });
        return cidrs.filter((cidr) => cidr !== undefined);
      }),
    PLAYER_LOCATION_HINT: z.union([z.literal(""), LocationHintSchema]),
  })
  .superRefine((c, context) => {
    // A previous key is of a brand that has a current one.
    for (const brand of Object.keys(c.WALLET_HMAC_SECRETS_PREVIOUS)) {
      if (!Object.hasOwn(c.WALLET_HMAC_SECRETS, brand))
        context.addIssue({
          code: "custom",
          path: ["WALLET_HMAC_SECRETS_PREVIOUS"],
          message: "names a brand WALLET_HMAC_SECRETS does not list",
        });
    }
    // Each secret signs for one owner (a brand, or the default key): else a request signed with it
    // could not be told apart, and one brand's key would reach another's players.
    const owners = new Map<string, string>();
    const own = (owner: string, value: string | undefined, setting: string) => {
      if (value === undefined) return;
      const earlier = owners.get(value);
      if (earlier !== undefined && earlier !== owner)
        context.addIssue({
          code: "custom",
          path: [setting],
          message: "a secret shared by two brands",
        });
      owners.set(value, owner);
    };
    own("", c.WALLET_HMAC_SECRET, "WALLET_HMAC_SECRET");
    own("", c.WALLET_HMAC_SECRET_PREVIOUS, "WALLET_HMAC_SECRET_PREVIOUS");
    for (const [brand, value] of Object.entries(c.WALLET_HMAC_SECRETS))
      own(`brand:${brand}`, value, "WALLET_HMAC_SECRETS");
    for (const [brand, value] of Object.entries(c.WALLET_HMAC_SECRETS_PREVIOUS))
      own(`brand:${brand}`, value, "WALLET_HMAC_SECRETS_PREVIOUS");
  });

/** The live secrets of one signer: a brand listed in WALLET_HMAC_SECRETS, or (null) the default key. */
export interface SigningKeys {
  brand: string | null;
  /** The current secret first: during a rotation most requests are signed with it. */
  secrets: string[];
}

export interface Config {
  /** The default key first (a single-brand deployment has only it), then each listed brand's. */
  hmacKeys: SigningKeys[];
  /** The brands of WALLET_HMAC_SECRETS: the default key signs for every other brand. */
  listedBrands: string[];
  adminToken: string;
  acceptZeroValueCredits: boolean;
  maxBatchSize: number;
  /** How long a cancel by batch_id keeps starting pages before it answers 503 (see batch.ts). */
  batchCancelBudgetMs: number;
  maxBodyBytes: number;
  tokenTtlSeconds: number;
  groupCommitMaxOps: number;
  /** Empty: any source may call /wallet/*. */
  allowedSourceIps: Cidr[];
}

type Settings = z.infer<typeof ConfigSchema>;

// The settings of one env object, parsed once: zod over every setting costs CPU on every request.
// An env's values do not change while the object lives (a test's own vars come as a new object).
// A bad configuration is not cached, so it keeps answering 500 with its log line.
const parsedByEnv = new WeakMap<object, Settings>();

function parsedSettings(env: Env): Settings {
  const cached = parsedByEnv.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new Error(`invalid configuration: ${fields}`);
  }
  parsedByEnv.set(env, parsed.data);
  return parsed.data;
}

/**
 * Settings from wrangler [vars] and secrets. A misconfigured deployment fails every request
 * with 500 (and a log line naming the setting) rather than running with a weak secret.
 */
export function readConfig(env: Env): Config {
  const c = parsedSettings(env);
  const nowMs = Date.now();
  // A previous secret is live until its …_UNTIL, or while it is set if there is none.
  const live = (until: string | undefined) => until === undefined || nowMs < Date.parse(until);
  const keysOf = (
    brand: string | null,
    current: string,
    previous: string | undefined,
    until: string | undefined,
  ): SigningKeys => ({
    brand,
    secrets: previous !== undefined && live(until) ? [current, previous] : [current],
  });
  const listedBrands = Object.keys(c.WALLET_HMAC_SECRETS);
  return {
    hmacKeys: [
      keysOf(
        null,
        c.WALLET_HMAC_SECRET,
        c.WALLET_HMAC_SECRET_PREVIOUS,
        c.WALLET_HMAC_SECRET_PREVIOUS_UNTIL,
      ),
      ...Object.entries(c.WALLET_HMAC_SECRETS).map(([brand, current]) =>
        keysOf(
          brand,
          current,
          c.WALLET_HMAC_SECRETS_PREVIOUS[brand],
          c.WALLET_HMAC_SECRETS_PREVIOUS_UNTIL,
        ),
      ),
    ],
    listedBrands,
    adminToken: c.ADMIN_TOKEN,
    acceptZeroValueCredits: c.ACCEPT_ZERO_VALUE_CREDITS,
    maxBatchSize: c.MAX_BATCH_SIZE,
    batchCancelBudgetMs: c.BATCH_CANCEL_BUDGET_MS,
    maxBodyBytes: c.MAX_BODY_BYTES,
    tokenTtlSeconds: c.TOKEN_TTL_SECONDS,
    groupCommitMaxOps: c.GROUP_COMMIT_MAX_OPS,
    allowedSourceIps: c.ALLOWED_SOURCE_IPS,
  };
}

// The archive's windows (docs/archive.md). Parsed apart from the request settings: a bad value
// stops the archive job (which then archives nothing and logs why), never the wallet's requests.
const ArchiveSchema = z
  .object({
    // Whole UTC days older than this many days are archived to R2 and deleted from D1.
    LEDGER_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(35),
    // How long an archived id is still known to its player's object, so a copy is never applied
    // again: Hub88 asks for at least 4 months. Not shorter than the ledger window: an id leaves D1
    // only after it, and must not be forgotten on the way to the object.
    TRANSACTION_ID_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(120),
  })
  .refine((c) => c.TRANSACTION_ID_RETENTION_DAYS >= c.LEDGER_RETENTION_DAYS, {
    path: ["TRANSACTION_ID_RETENTION_DAYS"],
    message: "must be at least LEDGER_RETENTION_DAYS",
  });

export interface ArchiveConfig {
  ledgerRetentionDays: number;
  transactionIdRetentionDays: number;
}

/**
 * LEDGER_RETENTION_DAYS and TRANSACTION_ID_RETENTION_DAYS, checked. Unset or empty means the
 * default; anything else that is not a whole number in range throws, naming the setting, so the
 * job fails closed (archives nothing) with that message in its log line.
 */
export function readArchiveConfig(env: {
  LEDGER_RETENTION_DAYS?: string;
  TRANSACTION_ID_RETENTION_DAYS?: string;
}): ArchiveConfig {
  const parsed = ArchiveSchema.safeParse({
    LEDGER_RETENTION_DAYS: env.LEDGER_RETENTION_DAYS || undefined,
    TRANSACTION_ID_RETENTION_DAYS: env.TRANSACTION_ID_RETENTION_DAYS || undefined,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration: ${issues.join("; ")}`);
  }
  return {
    ledgerRetentionDays: parsed.data.LEDGER_RETENTION_DAYS,
    transactionIdRetentionDays: parsed.data.TRANSACTION_ID_RETENTION_DAYS,
  };
}

/** The most shards LEDGER_SHARDS may list: each is one more D1 call for a report or an export page. */
export const MAX_LEDGER_SHARDS = 64;

const BINDING_NAME = /^[A-Z][A-Z0-9_]{0,62}$/;

/**
 * LEDGER_SHARDS, checked: the D1 bindings that hold players and their ledgers, comma-separated,
 * in order (a shard's number is its place in this list, 0-based, and never changes: the player
 * directory records it). Unset or empty means "DB" alone: a one-database wallet. The index (player
 * directory, transaction-id index, sessions) is always the binding DB, which may also be shard 0.
 */
export function ledgerShardNames(env: { LEDGER_SHARDS?: string }): string[] {
  const text = env.LEDGER_SHARDS?.trim();
  if (!text) return ["DB"];
  const names = text.split(",").map((name) => name.trim());
  if (
    names.length > MAX_LEDGER_SHARDS ||
    names.some((name) => !BINDING_NAME.test(name)) ||
    new Set(names).size !== names.length
  )
    throw new Error(
      `invalid configuration: LEDGER_SHARDS must list 1 to ${MAX_LEDGER_SHARDS} distinct D1 binding names`,
    );
  return names;
}

/**
 * The shard a new player is placed on: FNV-1a (32-bit) of the id's UTF-8 bytes, modulo the shard
 * count. Stable across isolates and releases, so scripts (the demo seed) can compute it too
 * (scripts/lib/home-shard.mjs is the same function). Only placement uses it: afterwards the
 * player directory says where a player is.
 */
export function homeShard(playerId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(playerId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}
