// X-Server-Authorization: HMAC-SHA256 of the exact raw body bytes (the empty body for GET),
// sent as hex or base64 (standard or URL-safe, padding optional). See the spec's "Transport".

const DIGEST_BYTES = 32;
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(secret, key);
  }
  return key;
}

function decodeHex(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]*$/.test(text) || text.length % 2 !== 0) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function decodeBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  try {
    return Uint8Array.from(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)), (c) =>
      c.charCodeAt(0),
    );
  } catch {
    return null;
  }
}

/** The digest bytes a header carries, or null if it is not a SHA-256 digest in any accepted encoding. */
export function decodeSignature(header: string): Uint8Array | null {
  const value = header.trim();
  const bytes = value.length === DIGEST_BYTES * 2 ? decodeHex(value) : decodeBase64(value);
  return bytes && bytes.length === DIGEST_BYTES ? bytes : null;
}

/**
 * The first of `signers` one of whose secrets `header` is the HMAC of `body` under, or undefined
 * if none. Each crypto.subtle.verify compares in constant time; a bad signature costs one HMAC
 * per live secret (bounded by MAX_BRAND_KEYS, measured by `npm run bench`). Where the search stops
 * tells only a holder of a valid key which signer matched, which it knows already.
 */
export async function signerOf<Signer extends { secrets: string[] }>(
  body: Uint8Array,
  header: string | null,
  signers: Signer[],
): Promise<Signer | undefined> {
  if (!header) return undefined;
  const signature = decodeSignature(header);
  if (!signature) return undefined;
  for (const signer of signers) {
    for (const secret of signer.secrets) {
      if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, body)) return signer;
    }
  }
  return undefined;
}

/** True if `header` is the HMAC of `body` under any of `secrets` (two are live during a key rotation). */
export async function verifySignature(
  body: Uint8Array,
  header: string | null,
  secrets: string[],
): Promise<boolean> {
  return (await signerOf(body, header, [{ secrets }])) !== undefined;
}

/** The hex signature ThrillGate would send for `body`: used by tests, scripts and the simulator. */
export async function signBody(body: string | Uint8Array, secret: string): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const digest = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
