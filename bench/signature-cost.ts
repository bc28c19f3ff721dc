// `npx tsx bench/signature-cost.ts` (and a section of `npm run bench`): what finding the signing
// brand costs, per request, with 1 and with 20 brands in WALLET_HMAC_SECRETS (plus the default
// key). The wallet verifies the signature against every live key until one matches (src/auth/
// hmac.ts, signerOf): a request of the default key costs one HMAC, one of the last brand listed
// costs one per key, and so does a bad signature. Node's WebCrypto, as workerd's, is V8 calling a
// native HMAC (OpenSSL here, BoringSSL there): the figures are of the same order, not the same.
// Prints one JSON object: per brand count, the median µs per request of each case.
import { createHmac } from "node:crypto";
import { signerOf } from "../src/auth/hmac";
import { readConfig, type Env } from "../src/config";

const ROUNDS = Number(process.env.SIGNATURE_ROUNDS ?? 9);
const CALLS = Number(process.env.SIGNATURE_CALLS ?? 1000);
const body = new TextEncoder().encode(
  JSON.stringify({
    player_id: "bench_00042",
    transaction_id: "abcd1234-P1-123456",
    transaction_type: "Credit",
    provider_id: "bench",
    amount: "0.01",
    currency: "EUR",
  }),
);
const sign = (secret: string) => createHmac("sha256", secret).update(body).digest("hex");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function microsPerCall(header: string, keys: ReturnType<typeof readConfig>["hmacKeys"]) {
  for (let i = 0; i < 200; i++) await signerOf(body, header, keys); // warm the JIT and key cache
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) await signerOf(body, header, keys);
    rounds.push(((performance.now() - start) * 1000) / CALLS);
  }
  return Math.round(median(rounds) * 10) / 10;
}

const results: Record<string, Record<string, number>> = {};
for (const brands of [1, 20]) {
  const secrets = Object.fromEntries(
    Array.from({ length: brands }, (_, i) => [
      `brand${i + 1}`,
      `bench-brand-${i + 1}-secret-0123456789`,
    ]),
  );
  const env = {
    WALLET_HMAC_SECRET: "bench-default-secret-0123456789",
    WALLET_HMAC_SECRETS: JSON.stringify(secrets),
    ADMIN_TOKEN: "bench-admin-token-0123456789",
  } as unknown as Env;
  const keys = readConfig(env).hmacKeys;
  const last = secrets[`brand${brands}`] as string;
  results[`${brands}_brands`] = {
    keys: keys.length,
    default_key_us: await microsPerCall(sign(env.WALLET_HMAC_SECRET), keys),
    last_brand_us: await microsPerCall(sign(last), keys),
    bad_signature_us: await microsPerCall("00".repeat(32), keys),
  };
}
console.log(JSON.stringify(results));
