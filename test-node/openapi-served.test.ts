import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startLocalWallet } from "../scripts/lib/local-wallet.mjs";

// The OpenAPI document is a static asset (public/openapi.json), served by Workers Static Assets
// before the Worker runs: a real `wrangler dev` serves it, the workers test project cannot.

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
let wallet: Wallet;

beforeAll(async () => {
  wallet = await startLocalWallet();
});

afterAll(async () => {
  await wallet?.stop();
});

describe("GET /openapi.json", () => {
  it("serves the checked-in document, unsigned, as JSON", async () => {
    const answer = await fetch(`${wallet.url}/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    const checkedIn = readFileSync(join(REPO_ROOT, "public", "openapi.json"), "utf8");
    expect(await answer.text()).toBe(checkedIn);
  });
});
