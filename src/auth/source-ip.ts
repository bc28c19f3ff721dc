// ALLOWED_SOURCE_IPS: the operator's optional allow-list of ThrillGate's source addresses, as
// comma-separated CIDRs (IPv4 and IPv6). The balance GET is signed with the HMAC of the empty body,
// a constant the contract imposes: one captured signature reads every balance. Only refusing other
// sources closes that, so the list is checked against CF-Connecting-IP on every /wallet/* call.

export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefixBits: number;
}

function ipv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (
    parts.length !== 4 ||
    !parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255)
  )
    return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

function ipv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let groups: string[];
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (half: string | undefined) => (half ? half.split(":") : []);
  let head = split(halves[0]);
  let tail = halves.length === 2 ? split(halves[1]) : [];
  // An embedded IPv4 address (::ffff:192.0.2.1) is the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes(".")) {
    const v4 = ipv4(last);
    if (v4 === undefined) return undefined;
    const embedded = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    if (halves.length === 2) tail = [...tail.slice(0, -1), ...embedded];
    else head = [...head.slice(0, -1), ...embedded];
  }
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...Array<string>(missing).fill("0"), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8 || !groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group)))
    return undefined;
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address as its version and value; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as IPv4. */
export function parseAddress(text: string): { version: 4 | 6; value: bigint } | undefined {
  const v4 = ipv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = ipv6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/** One CIDR ("192.0.2.0/24", "2001:db8::/32", or a single address), or undefined if it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefix, ...rest] = text.trim().split("/");
  if (address === undefined || rest.length > 0) return undefined;
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const widthBits = parsed.version === 4 ? 32 : 128;
  if (prefix !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefix)) return undefined;
  const prefixBits = prefix === undefined ? widthBits : Number(prefix);
  if (prefixBits > widthBits) return undefined;
  const hostBits = BigInt(widthBits - prefixBits);
  return { version: parsed.version, network: (parsed.value >> hostBits) << hostBits, prefixBits };
}

/** True if `address` (CF-Connecting-IP) lies in one of the CIDRs. */
export function isAllowedSource(address: string | null, allowed: readonly Cidr[]): boolean {
  const parsed = address === null ? undefined : parseAddress(address.trim());
  if (!parsed) return false;
  return allowed.some((cidr) => {
    if (cidr.version !== parsed.version) return false;
    const hostBits = BigInt((cidr.version === 4 ? 32 : 128) - cidr.prefixBits);
    return (parsed.value >> hostBits) << hostBits === cidr.network;
  });
}
