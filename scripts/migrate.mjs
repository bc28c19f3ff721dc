// `npm run migrate -- --remote` (or `--local`, the default): applies migrations/ to every D1
// database of wrangler.toml, the index (DB) and each shard, in the order it lists them. Stops at
// the first that fails; a rerun applies only what is missing (wrangler records what it applied).
import { d1Bindings, migrateAll } from "./lib/local-wallet.mjs";

const args = process.argv.slice(2);
const remote = args.includes("--remote");
const unknown = args.filter((arg) => arg !== "--remote" && arg !== "--local");
if (unknown.length > 0) {
  console.error(`usage: npm run migrate -- [--local | --remote]  (unknown: ${unknown.join(" ")})`);
  process.exit(2);
}
const config = "wrangler.toml";
console.log(`Migrating ${d1Bindings(config).join(", ")} (${remote ? "remote" : "local"})…`);
const failed = migrateAll(config, [remote ? "--remote" : "--local"], { stdio: "inherit" });
if (failed) {
  console.error(`wrangler d1 migrations apply ${failed.binding} failed`);
  process.exit(failed.status ?? 1);
}
console.log("Every database is migrated.");
