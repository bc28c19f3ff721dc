// The wallet definition an operator registers with ThrillGate ("Standard Wallet", "Configuring
// Wallet Connectivity"), built from the wallet's own sources: the paths the router serves and the
// one table of error rules. Used by `npm run thrillgate-config` and by the simulator, which plays
// ThrillGate under the rules the wallet recommends.
import { readFileSync } from "node:fs";
import { ERROR_RULES } from "../../src/api/error-rules.ts";
import { WALLET_ENDPOINTS } from "../../src/api/routes.ts";

/** ThrillGate's documented defaults: seconds, retries, the factor the timeout grows by per retry. */
export const THRILLGATE_DEFAULTS = Object.freeze({
  request_timeout: 10,
  request_retry_limit: 3,
  request_retry_backoff: 2,
  retry_backoff_sleep: false,
});

/** ERROR_RULES as ThrillGate's error_response_rules: {"<status>:<code>": {must_retry, must_cancel}}. */
export function errorResponseRules() {
  return Object.fromEntries(
    Object.entries(ERROR_RULES).map(([code, rule]) => [
      `${rule.status}:${code}`,
      { must_retry: rule.retry, must_cancel: rule.cancel },
    ]),
  );
}

export const SECRET_PLACEHOLDER =
  "<the brand's key: its entry of WALLET_HMAC_SECRETS if listed there, else the value of WALLET_HMAC_SECRET (wrangler secret put); not printed without --include-secret>";

const TRUE_TEXT = new Set(["true", "1", "yes", "on", "y", "enabled"]);
const FALSE_TEXT = new Set(["false", "0", "no", "off", "n", "disabled"]);

/** "true"/"false" and the other spellings the wallet's config (z.stringbool) reads. */
export function parseBoolean(text, name) {
  const value = String(text).trim().toLowerCase();
  if (TRUE_TEXT.has(value)) return true;
  if (FALSE_TEXT.has(value)) return false;
  throw new Error(`${name} must be true or false, not ${JSON.stringify(text)}`);
}

/** A var of wrangler.toml's [vars] table, or undefined (a small reader: `NAME = "value"` lines). */
export function wranglerVar(path, name) {
  let inVars = false;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const table = /^\s*\[([^\]]*)\]/.exec(line);
    if (table) inVars = table[1].trim() === "vars";
    const match = inVars && new RegExp(`^\\s*${name}\\s*=\\s*"?([^"#]*?)"?\\s*(#.*)?$`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * @param {{ host: string, operatorId: string, brandId: string, protocol?: "https" | "http", port?: number,
 *   acceptZeroValueCredits: boolean, mustCloseGamerounds?: boolean, secretKey?: string }} options
 */
export function walletDefinition(options) {
  const protocol = options.protocol ?? "https";
  return {
    wallet_type: "StandardWallet",
    operator_id: options.operatorId,
    brand_id: options.brandId,
    connection_details: {
      protocol,
      host: options.host,
      port: options.port ?? (protocol === "https" ? 443 : 80),
    },
    endpoints: { ...WALLET_ENDPOINTS },
    config: {
      secret_key: options.secretKey ?? SECRET_PLACEHOLDER,
      accept_zero_value_credits: options.acceptZeroValueCredits,
      // A round is closed by a Credit, 0 if nothing was won: possible only where 0 is accepted.
      must_close_gamerounds: options.mustCloseGamerounds ?? options.acceptZeroValueCredits,
      ...THRILLGATE_DEFAULTS,
      error_response_rules: errorResponseRules(),
    },
  };
}
