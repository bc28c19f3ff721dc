import { ApiError } from "./errors";

// A streamed (chunked) body refused for its size is read to its end and thrown away, not cancelled:
// wrangler dev 4.124's workerd exits (an empty "✘ [ERROR]", then /health 500 and a closed port)
// when a Worker answers a chunked request whose body it cancelled or left unread while the client
// is still sending. Discarding holds one chunk at a time, and is bounded: past DISCARD_FACTOR times
// the cap, or DISCARD_MAX_MS, the stream is cancelled after all.
const DISCARD_FACTOR = 8;
const DISCARD_MAX_MS = 5_000;

async function discardRest(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  readBytes: number,
  maxBytes: number,
): Promise<void> {
  const deadlineMs = Date.now() + DISCARD_MAX_MS;
  let total = readBytes;
  for (;;) {
    if (total > DISCARD_FACTOR * maxBytes || Date.now() > deadlineMs) return reader.cancel();
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
  }
}

/**
 * Reads the raw body bytes, refusing anything above `maxBytes` before it is held whole:
 * a declared Content-Length is checked first, and a streamed body is refused as soon as it
 * passes the cap (its rest is discarded, see above).
 */
export async function readBodyCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("BODY_TOO_LARGE", `body is larger than ${maxBytes} bytes`);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await discardRest(reader, total, maxBytes);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
