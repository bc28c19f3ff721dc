// `npm run thrillgate-config -- --host wallet.example.com --operator thrilltech --brand brand1`:
// prints the JSON wallet definition to register with ThrillGate (stdout carries only the JSON).
// The secret is printed only with --include-secret; by default a placeholder says where it goes.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readDevVars } from "./lib/dev-vars.mjs";
import { REPO_ROOT } from "./lib/local-wallet.mjs";
import { parseBoolean, walletDefinition, wranglerVar } from "./lib/wallet-definition.mjs";

const HELP = `npm run thrillgate-config -- --host HOST --operator ID --brand ID [options]
  --host HOST                        the wallet's host name, as ThrillGate reaches it (required)
  --operator ID                      ThrillGate operator id (required)
  --brand ID                         ThrillGate brand id (required)
  --protocol https|http              default https
  --port N                           default 443 (https) or 80 (http)
  --accept-zero-value-credits B      true or false (default: ACCEPT_ZERO_VALUE_CREDITS of wrangler.toml [vars], else true)
  --must-close-gamerounds B          true or false (default: as accept_zero_value_credits)
  --config PATH                      the wrangler.toml to read (default: the repository's)
  --include-secret                   print the brand's key as secret_key: its entry of WALLET_HMAC_SECRETS if
                                     listed there, else WALLET_HMAC_SECRET (from the environment, else .dev.vars)
Prints the JSON wallet definition on stdout; exits 2 on bad usage.`;

export function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      operator: { type: "string" },
      brand: { type: "string" },
      protocol: { type: "string", default: "https" },
      port: { type: "string" },
      "accept-zero-value-credits": { type: "string" },
      "must-close-gamerounds": { type: "string" },
      config: { type: "string", default: join(REPO_ROOT, "wrangler.toml") },
      "include-secret": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const missing = ["host", "operator", "brand"].filter((name) => !values[name]);
  if (missing.length > 0)
    throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(", ")}`);
  if (values.protocol !== "https" && values.protocol !== "http")
    throw new UsageError("--protocol must be https or http");
  let port;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new UsageError("--port must be 1–65535");
  }
  const zeroText =
    values["accept-zero-value-credits"] ??
    wranglerVar(values.config, "ACCEPT_ZERO_VALUE_CREDITS") ??
    "true";
  const acceptZeroValueCredits = parseBoolean(zeroText, "accept_zero_value_credits");
  const closeText = values["must-close-gamerounds"];
  let secretKey;
  if (values["include-secret"]) secretKey = brandKey(values.brand);
  const definition = walletDefinition({
    host: values.host,
    operatorId: values.operator,
    brandId: values.brand,
    protocol: values.protocol,
    port,
    acceptZeroValueCredits,
    mustCloseGamerounds:
      closeText === undefined ? undefined : parseBoolean(closeText, "must_close_gamerounds"),
    secretKey,
  });
  console.log(JSON.stringify(definition, null, 2));
  return 0;
}

/**
 * The key that signs for `brand`, as the wallet reads it (src/config.ts): the brand's entry of
 * WALLET_HMAC_SECRETS if it is listed there, else the default key WALLET_HMAC_SECRET. Each setting
 * from the environment, else .dev.vars. An error names the setting, never its value.
 */
function brandKey(brand) {
  const devVars = readDevVars();
  const setting = (name) => process.env[name] ?? devVars[name];
  const listed = setting("WALLET_HMAC_SECRETS");
  if (listed) {
    let keys;
    try {
      keys = JSON.parse(listed);
    } catch {
      throw new UsageError("--include-secret: WALLET_HMAC_SECRETS is not JSON");
    }
    if (keys === null || typeof keys !== "object" || Array.isArray(keys))
      throw new UsageError("--include-secret: WALLET_HMAC_SECRETS is not a JSON object");
    if (Object.hasOwn(keys, brand)) return String(keys[brand]);
  }
  const secret = setting("WALLET_HMAC_SECRET");
  if (!secret)
    throw new UsageError("--include-secret: no WALLET_HMAC_SECRET in the environment or .dev.vars");
  return secret;
}

class UsageError extends Error {}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    console.error("npm run thrillgate-config -- --help lists the options");
    process.exitCode = 2;
  }
}
