// A client that calls the wallet the way ThrillGate does: every /wallet/* body HMAC-signed in
// X-Server-Authorization, a timeout per attempt, and retries with exponential backoff on network
// errors, timeouts and 5xx answers (4xx answers are final, so they are never retried). Used by the
// simulator; meant for the bench and chaos tools too, so they all exercise one client policy.
import { signBody } from "../../src/auth/hmac.ts";

// ThrillGate's documented defaults ("Configuring Wallet Connectivity"): 10 s timeout, up to 3
// retries, backoff factor 2. Its real waits between retries are seconds-scale; the tools default to
// a 100 ms base (waits of 100, 200, 400 ms) so a run stays quick. backoffMs: 1000 or more waits
// roughly as long as ThrillGate does.
export const THRILLGATE_POLICY = Object.freeze({ timeoutMs: 10_000, retries: 3, backoffMs: 100, backoffFactor: 2 });

/** The wait before retry number `retry` (1, 2, 3…): backoffMs × factor^(retry − 1). */
export function backoffDelayMs(retry, { backoffMs, backoffFactor }) {
  return backoffMs * backoffFactor ** (retry - 1);
}

/**
 * JSON.parse, except every leaf value is kept as its JSON source text: a balance written as
 * `90.00` reads "90.00" (not 90), one written as the string "90.00" reads "\"90.00\"". Exact
 * money and the number-versus-string difference of the cancel answer both survive.
 */
export function parseSourceText(text) {
  return JSON.parse(text, (_key, value, context) => (typeof value === "object" && value !== null ? value : context.source));
}

function parseOrUndefined(text, parse) {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {{ url: string, secret: string, adminToken?: string, timeoutMs?: number, retries?: number,
 *   backoffMs?: number, backoffFactor?: number }} options
 */
export function createThrillGateClient(options) {
  const policy = { ...THRILLGATE_POLICY, ...definedOnly(options) };
  const origin = options.url.replace(/\/+$/, "");

  // One HTTP exchange; the timeout covers reading the body too, as a client's read timeout does.
  async function attempt(method, path, raw, headers) {
    const signal = AbortSignal.timeout(policy.timeoutMs);
    const response = await fetch(`${origin}${path}`, { method, headers, body: method === "GET" ? undefined : raw, signal });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers };
  }

  /**
   * Sends one request under the retry policy. Answers the last attempt's outcome with
   * `body` (JSON.parse), `source` (see parseSourceText), `attempts` and `latencyMs` (all attempts
   * and waits); throws only when every attempt failed without an answer.
   */
  async function send(method, path, raw, headers, retry = true) {
    const startedMs = performance.now();
    const maxAttempts = retry ? policy.retries + 1 : 1;
    for (let attempts = 1; ; attempts++) {
      let outcome;
      try {
        outcome = await attempt(method, path, raw, headers);
      } catch (error) {
        outcome = { error };
      }
      const retryable = outcome.error !== undefined || outcome.status >= 500;
      if (!retryable || attempts === maxAttempts) {
        const latencyMs = performance.now() - startedMs;
        if (outcome.error) {
          const { name, message, cause } = outcome.error;
          // fetch's own message is just "fetch failed"; the reason (ECONNREFUSED…) is in its cause.
          const reason = name === "TimeoutError" ? `timed out after ${policy.timeoutMs} ms` : (cause?.code ?? cause?.message ?? message);
          throw new Error(`${method} ${path}: no answer after ${attempts} attempt(s): ${reason}`, { cause: outcome.error });
        }
        return {
          ...outcome,
          body: parseOrUndefined(outcome.text, JSON.parse),
          source: parseOrUndefined(outcome.text, parseSourceText),
          attempts,
          latencyMs,
        };
      }
      await sleep(backoffDelayMs(attempts, policy));
    }
  }

  return {
    policy,

    /** The X-Server-Authorization value ThrillGate would send with `raw`. */
    sign: (raw) => signBody(raw, options.secret),

    /**
     * A ThrillGate call. `body`: an object (sent as JSON), a string (sent byte for byte, e.g. a
     * malformed body) or undefined (the empty body, as for GET). `signature` overrides the
     * computed one; null sends no X-Server-Authorization at all.
     */
    async wallet(method, path, body, { signature, headers = {}, retry = true } = {}) {
      const raw = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
      const sig = signature === undefined ? await signBody(raw, options.secret) : signature;
      const all = { "content-type": "application/json", ...headers };
      if (sig !== null) all["x-server-authorization"] = sig;
      return send(method, path, raw, all, retry);
    },

    /** An operator call to the admin API with the bearer token; same retry policy. */
    admin(method, path, body) {
      const headers = { "content-type": "application/json", authorization: `Bearer ${options.adminToken}` };
      return send(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
    },
  };
}

function definedOnly(options) {
  const policy = {};
  for (const name of Object.keys(THRILLGATE_POLICY)) if (options[name] !== undefined) policy[name] = options[name];
  return policy;
}
