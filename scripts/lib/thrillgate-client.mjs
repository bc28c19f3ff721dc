// A client that calls the wallet the way ThrillGate does ("Configuring Wallet Connectivity" and
// "Configuring Wallet Error Behaviour", ThrillPots "Transactions"): every /wallet/* body
// HMAC-signed in X-Server-Authorization; a timeout per attempt that grows by a factor on each
// retry; retries sent at once (no sleep), possibly while the wallet still works on the attempt that
// timed out; every failed call retried, 4xx included, unless an error_response_rules entry for
// "<status>:<code>" says must_retry false. After the last failed attempt a Debit is cancelled
// (unless the rule says must_cancel false) and a Credit is never cancelled: it becomes pending and
// is sent again later until it is accepted. Used by the simulator, the chaos runner and the bench.
import { signBody } from "../../src/auth/hmac.ts";
import { parseSourceText } from "./source-text.ts";

export { parseSourceText };

// ThrillGate's documented defaults, in this client's units: request_timeout 10 s,
// request_retry_limit 3, request_retry_backoff 2 (attempts time out after 10, 20, 40, 80 s),
// retry_backoff_sleep false, no error_response_rules. backoffMs is the first pause between
// attempts when backoffSleep is on (it grows by the same factor).
export const THRILLGATE_POLICY = Object.freeze({
  timeoutMs: 10_000,
  retries: 3,
  backoffFactor: 2,
  backoffSleep: false,
  backoffMs: 1_000,
  errorResponseRules: Object.freeze({}),
});

/** The timeout of attempt `attempt` (1, 2, 3…): timeoutMs × factor^(attempt − 1). */
export function attemptTimeoutMs(attempt, { timeoutMs, backoffFactor }) {
  return timeoutMs * backoffFactor ** (attempt - 1);
}

/** The pause before retry `retry` (1, 2, 3…) when backoffSleep is on: backoffMs × factor^(retry − 1). */
export function backoffDelayMs(retry, { backoffMs, backoffFactor }) {
  return backoffMs * backoffFactor ** (retry - 1);
}

/**
 * What ThrillGate does after a failed attempt: {must_retry, must_cancel} of the rule for
 * "<status>:<code>", each true where no rule says otherwise. An attempt without an answer (network
 * error, time-out) matches no rule.
 */
export function ruleFor(outcome, rules) {
  const code = outcome.body && typeof outcome.body === "object" ? outcome.body.code : undefined;
  const rule =
    outcome.error === undefined && typeof code === "string"
      ? rules[`${outcome.status}:${code}`]
      : undefined;
  return { must_retry: rule?.must_retry ?? true, must_cancel: rule?.must_cancel ?? true };
}

function parseOrUndefined(text, parse) {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const succeeded = (outcome) =>
  outcome.error === undefined && outcome.status >= 200 && outcome.status < 300;

/**
 * @param {{ url: string, secret: string, adminToken?: string, timeoutMs?: number, retries?: number,
 *   backoffFactor?: number, backoffSleep?: boolean, backoffMs?: number,
 *   errorResponseRules?: Record<string, { must_retry?: boolean, must_cancel?: boolean }> }} options
 */
export function createThrillGateClient(options) {
  const chosen = Object.fromEntries(
    Object.keys(THRILLGATE_POLICY).map((name) => [name, options[name]]),
  );
  const policy = { ...THRILLGATE_POLICY, ...definedOnly(chosen) };
  const origin = options.url.replace(/\/+$/, "");
  /** Credits whose every attempt failed: ThrillGate sends them again later, until accepted. */
  const pending = [];

  // One HTTP exchange; the timeout covers reading the body too, as a client's read timeout does.
  async function attempt(method, path, raw, headers, timeoutMs) {
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const response = await fetch(`${origin}${path}`, {
        method,
        headers,
        body: method === "GET" ? undefined : raw,
        signal,
      });
      const text = await response.text();
      return {
        status: response.status,
        text,
        headers: response.headers,
        body: parseOrUndefined(text, JSON.parse),
      };
    } catch (error) {
      return { error, timeoutMs };
    }
  }

  /**
   * Sends one request under the policy: `retryWhen(outcome)` says whether a failed attempt is
   * sent again. Answers the last attempt's outcome with `body` (JSON.parse), `source` (see
   * parseSourceText), `attempts`, `ok` and `latencyMs`; throws only when no attempt was answered
   * and `throwWithoutAnswer` (the tools' calls); the ThrillGate flows handle that case themselves.
   */
  async function send(
    method,
    path,
    raw,
    headers,
    { retry = true, retryWhen, throwWithoutAnswer = true },
  ) {
    const startedMs = performance.now();
    const maxAttempts = retry ? policy.retries + 1 : 1;
    for (let attempts = 1; ; attempts++) {
      const outcome = await attempt(method, path, raw, headers, attemptTimeoutMs(attempts, policy));
      if (succeeded(outcome) || attempts >= maxAttempts || !retryWhen(outcome)) {
        const latencyMs = performance.now() - startedMs;
        if (outcome.error && throwWithoutAnswer) {
          const { name, message, cause } = outcome.error;
          // fetch's own message is just "fetch failed"; the reason (ECONNREFUSED…) is in its cause.
          const reason =
            name === "TimeoutError"
              ? `timed out after ${outcome.timeoutMs} ms`
              : (cause?.code ?? cause?.message ?? message);
          throw new Error(`${method} ${path}: no answer after ${attempts} attempt(s): ${reason}`, {
            cause: outcome.error,
          });
        }
        return {
          ...outcome,
          ok: succeeded(outcome),
          source:
            outcome.text === undefined
              ? undefined
              : parseOrUndefined(outcome.text, parseSourceText),
          attempts,
          latencyMs,
        };
      }
      // retry_backoff_sleep false: the retry goes out at once.
      if (policy.backoffSleep) await sleep(backoffDelayMs(attempts, policy));
    }
  }

  const byRules = (outcome) => ruleFor(outcome, policy.errorResponseRules).must_retry;

  async function signedCall(
    method,
    path,
    body,
    { signature, headers = {}, retry = true, throwWithoutAnswer = true } = {},
  ) {
    const raw = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    const sig = signature === undefined ? await signBody(raw, options.secret) : signature;
    const all = { "content-type": "application/json", ...headers };
    if (sig !== null) all["x-server-authorization"] = sig;
    return send(method, path, raw, all, { retry, retryWhen: byRules, throwWithoutAnswer });
  }

  const client = {
    policy,

    /** The X-Server-Authorization value ThrillGate would send with `raw`. */
    sign: (raw) => signBody(raw, options.secret),

    /**
     * A ThrillGate call, retried under the error_response_rules. `body`: an object (sent as JSON),
     * a string (sent byte for byte, e.g. a malformed body) or undefined (the empty body, as for
     * GET). `signature` overrides the computed one; null sends no X-Server-Authorization at all;
     * `retry: false` sends one attempt only.
     */
    wallet: signedCall,

    /**
     * A Debit as ThrillPots sends it: retried under the rules, and after the last failed attempt
     * cancelled with DELETE /wallet/cancel unless the rule for that failure says must_cancel false.
     * Answers {outcome: "applied" | "cancelled" | "failed", debit, cancel?}.
     */
    async debit(body, path = "/wallet/transaction") {
      const debit = await signedCall("POST", path, body, { throwWithoutAnswer: false });
      if (debit.ok) return { outcome: "applied", debit };
      if (!ruleFor(debit, policy.errorResponseRules).must_cancel)
        return { outcome: "failed", debit };
      const cancel = await client.cancelUntilAccepted(body.transaction_id, body.player_id);
      return { outcome: "cancelled", debit, cancel };
    },

    /**
     * A cancel is what closes a failed Debit's round, so it is sent again (each time under the
     * rules) until the wallet accepts it or `rounds` run out.
     */
    async cancelUntilAccepted(transactionId, playerId, rounds = 3) {
      let cancel;
      for (let round = 0; round < rounds; round++) {
        cancel = await signedCall(
          "DELETE",
          "/wallet/cancel",
          { transaction_id: transactionId, player_id: playerId },
          { throwWithoutAnswer: false },
        );
        if (cancel.ok) break;
      }
      return cancel;
    },

    /**
     * A Credit as ThrillPots sends it: retried under the rules and never cancelled; after the last
     * failed attempt it is pending (see resendPending). Answers {outcome: "applied" | "pending", credit}.
     */
    async credit(body, path = "/wallet/transaction") {
      const credit = await signedCall("POST", path, body, { throwWithoutAnswer: false });
      if (credit.ok) return { outcome: "applied", credit };
      pending.push({ path, body });
      return { outcome: "pending", credit };
    },

    /** The Credits pending now (their bodies). */
    pendingCredits: () => pending.map((p) => p.body),

    /** Sends every pending Credit again (one full round of attempts each); keeps those that fail. */
    async resendPending() {
      const answers = [];
      for (const item of pending.splice(0)) {
        const credit = await signedCall("POST", item.path, item.body, {
          throwWithoutAnswer: false,
        });
        if (!credit.ok) pending.push(item);
        answers.push(credit);
      }
      return answers;
    },

    /** An operator call to the admin API with the bearer token: retried on no answer and 5xx only. */
    admin(method, path, body) {
      const headers = {
        "content-type": "application/json",
        authorization: `Bearer ${options.adminToken}`,
      };
      const raw = body === undefined ? undefined : JSON.stringify(body);
      return send(method, path, raw, headers, {
        retryWhen: (outcome) => outcome.error !== undefined || outcome.status >= 500,
      });
    },
  };
  return client;
}

/** The entries of `object` whose value is not undefined: options left unset keep their defaults. */
export function definedOnly(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}
