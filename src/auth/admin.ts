// The admin API uses its own bearer token, never the HMAC secret, so a leaked ThrillGate
// secret cannot create players or tokens.

const encoder = new TextEncoder();

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** True if the Authorization header is `Bearer <adminToken>`, compared in constant time. */
export async function isAdminAuthorization(
  header: string | null,
  adminToken: string,
): Promise<boolean> {
  const presented = /^Bearer (\S+)$/.exec(header ?? "")?.[1];
  if (!presented) return false;
  // Equal-length digests, so the comparison time says nothing about the token.
  const [a, b] = await Promise.all([sha256(presented), sha256(adminToken)]);
  return crypto.subtle.timingSafeEqual(a, b);
}
