import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// The same migrations `wrangler d1 migrations apply` runs; applying twice is a no-op.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
