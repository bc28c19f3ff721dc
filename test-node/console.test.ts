import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBrowser } from "../scripts/lib/find-browser.mjs";
import { createThrillGateClient } from "../scripts/lib/thrillgate-client.mjs";
import { REPO_ROOT, runWrangler, startLocalWallet } from "../scripts/lib/local-wallet.mjs";

// The operator console in a real headless Chromium or Chrome (found by find-browser.mjs: CHROMIUM_PATH,
// else chromium, chromium-browser, google-chrome-stable or google-chrome on the PATH; driven by
// playwright-core) against a real `wrangler dev`: sign in, see the last nightly reconciliation
// (fired through /__scheduled) on the front page, find a player after a signed Debit, look the Debit up,
// reconcile, and see hostile ids, nicknames and metadata shown as the characters they are.
// Screenshots of every page land in test-node/screenshots/ (git-ignored) for a person to look at.

const BROWSER = findBrowser();
const IN_CI = process.env.CI === "true";
const HAVE_BROWSER = BROWSER.path !== null;
const SCREENSHOTS = join(REPO_ROOT, "test-node", "screenshots");

const HOSTILE = "<img src=x onerror=alert(1)>";
const HOSTILE_SCRIPT = "<script>alert(2)</script>";

if (!HAVE_BROWSER && !IN_CI) {
  console.warn(
    [
      "",
      "!!! ===================================================================== !!!",
      "!!! SKIPPED: the operator console browser test.",
      `!!! ${BROWSER.message}`,
      "!!! Under CI=true this test fails instead.",
      "!!! ===================================================================== !!!",
      "",
    ].join("\n"),
  );
}

type Wallet = Awaited<ReturnType<typeof startLocalWallet>>;
type Client = ReturnType<typeof createThrillGateClient>;

let wallet: Wallet;
let client: Client;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];
const cspViolations: string[] = [];

async function createPlayer(playerId: string, nickname: string) {
  const answer = await client.admin("POST", "/admin/players", {
    player_id: playerId,
    operator_id: "thrilltech",
    brand_id: "brand1",
    currency: "EUR",
    balance: "1000.00",
    nickname,
    country: "MT",
    jurisdiction: "MGA",
  });
  expect(answer.status, answer.text).toBe(201);
}

async function debit(
  playerId: string,
  transactionId: string,
  amount: string,
  metadata: Record<string, string>,
) {
  const body = {
    player_id: playerId,
    transaction_id: transactionId,
    transaction_type: "Debit",
    provider_id: "thrillpots",
    amount,
    currency: "EUR",
    ...metadata,
  };
  const answer = await client.wallet("POST", "/wallet/transaction", body);
  expect(answer.status, answer.text).toBe(200);
}

/** The whole page, or its top `heightPx` (the player page's ledger runs long). */
async function screenshot(name: string, heightPx?: number) {
  const clip = heightPx === undefined ? undefined : { x: 0, y: 0, width: 1280, height: heightPx };
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, clip });
}

const text = (selector: string) => page.locator(selector).textContent();

describe.skipIf(!HAVE_BROWSER && !IN_CI)("the operator console in a real browser", () => {
  beforeAll(async () => {
    if (!BROWSER.path)
      throw new Error(`CI=true: the console test needs a browser. ${BROWSER.message}`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    wallet = await startLocalWallet();
    client = createThrillGateClient({
      url: wallet.url,
      secret: wallet.secret,
      adminToken: wallet.adminToken,
    });

    // player_00001: 26 credits in one signed batch, then one signed Debit of 2.50.
    await createPlayer("player_00001", "Demo 1");
    const credits = Array.from({ length: 26 }, (_, n) => ({
      player_id: "player_00001",
      transaction_id: `credit-${String(n + 1).padStart(4, "0")}`,
      transaction_type: "Credit",
      provider_id: "thrillpots",
      amount: "1.00",
      currency: "EUR",
      round_id: `round-${n + 1}`,
    }));
    const batch = await client.wallet("POST", "/wallet/transaction/batch", {
      batch_id: "batch-0001",
      transactions: credits,
    });
    expect(batch.status, batch.text).toBe(200);
    await debit("player_00001", "debit-0001", "2.50", {
      round_id: "round-27",
      game_id: "mega-jackpot",
    });

    // Hostile text where the console shows API values: a player id, a nickname, ledger metadata.
    await createPlayer(HOSTILE, HOSTILE);
    await debit(HOSTILE, "debit-hostile-owner", "1.00", {});
    await createPlayer("player_00002", HOSTILE);
    await debit("player_00002", "debit-hostile-metadata", "1.00", {
      round_id: HOSTILE,
      game_id: HOSTILE_SCRIPT,
    });
    const overdraft = {
      player_id: "player_00001",
      transaction_id: "debit-refused",
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "5000.00",
      currency: "EUR",
    };
    expect((await client.wallet("POST", "/wallet/transaction", overdraft)).status).toBe(402);

    browser = await chromium.launch({
      executablePath: BROWSER.path,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await wallet?.stop();
  });

  it("is served at /console with a strict CSP, no framing, no sniffing and no referrer", async () => {
    const response = await page.goto(`${wallet.url}/console`);
    expect(page.url()).toBe(`${wallet.url}/console/`);
    const headers = response?.headers() ?? {};
    expect(headers["content-security-policy"]).toContain("default-src 'none'");
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    for (const asset of ["console.js", "console.css"]) {
      const served = await fetch(`${wallet.url}/console/${asset}`);
      expect(served.headers.get("content-security-policy")).toBe(
        headers["content-security-policy"],
      );
    }
    // The assets serve only their own files: the Worker's routes still answer beside them.
    expect((await fetch(`${wallet.url}/health`)).status).toBe(200);
    expect((await fetch(`${wallet.url}/admin/reconcile`)).status).toBe(401);
    expect((await fetch(`${wallet.url}/console/favicon.svg`)).status).toBe(200);
    await page.locator("#sign-in").waitFor();
    await screenshot("1-sign-in");
  });

  it("keeps the admin token in sessionStorage only: not in the URL, a cookie or the page", async () => {
    await page.fill("#token", wallet.adminToken);
    await page.click("#sign-in button");
    await page.locator("#signed-in").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("edge-wallet.admin-token"))).toBe(
      wallet.adminToken,
    );
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(page.url()).not.toContain(wallet.adminToken);
    expect(await page.content()).not.toContain(wallet.adminToken);
  });

  it("shows the last reconciliation on the front page: none yet, then the nightly run fired through /__scheduled, exact and then disagreeing", async () => {
    await expect.poll(() => text("#last-run-verdict")).toBe("None yet");
    expect(await text("#last-run-text")).toContain("No run is recorded yet");

    // The Cron Trigger, fired as after `npm start` (wrangler dev --test-scheduled).
    const fireCron = async () =>
      expect((await fetch(`${wallet.url}/__scheduled?cron=15+0+*+*+*`)).status).toBe(200);
    await fireCron();
    await page.reload();
    await expect.poll(() => text("#last-run-verdict")).toBe("Exact");
    expect(await text("#last-run-text")).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC, nightly run: 3 players and 30 transaction ids checked in \d+ ms\.$/,
    );
    expect(await page.locator("#last-run-show").isHidden()).toBe(true);
    await screenshot("2-last-run-exact", 240);

    // A balance broken behind the wallet's back (its local D1, as a fault only a test can make):
    // the next night's run disagrees, and the front page says so and shows where.
    const breakBalance = (deltaMinor: number) => {
      const sql = `UPDATE players SET balance_minor = balance_minor + ${deltaMinor} WHERE id = 'player_00002'`;
      const run = runWrangler(
        ["d1", "execute", "DB", "--local", "--persist-to", wallet.persistDir, "--command", sql],
        { cwd: REPO_ROOT, encoding: "utf8" },
      );
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    };
    breakBalance(5);
    try {
      await fireCron();
      await page.reload();
      await expect.poll(() => text("#last-run-verdict")).toBe("Disagrees: 1");
      expect(await text("#last-run-text")).toContain("nightly run");
      await page.click("#last-run-show");
      await page.locator("#reconcile-result").waitFor();
      expect(await text("#reconcile-verdict")).toBe("Disagrees: 1");
      const cells = await page.locator("#reconcile-balances tbody tr td").allTextContents();
      // player_00002: 1000.00 − 1.00 = 99900 minor units by its ledger, 99905 in its balance.
      expect(cells).toEqual(["player_00002", "99905", "99900", "5"]);
      await screenshot("2-last-run-disagrees");
    } finally {
      breakBalance(-5);
    }
    await page.click("nav a[data-page=player]");
  });

  it("finds player_00001: balance, profile and the ledger newest first, paged, after a signed Debit", async () => {
    await page.fill("#player-id-input", "player_00001");
    await page.click("#player-form button");
    await page.locator("#player-result").waitFor();
    expect(await text("#player-id")).toBe("player_00001");
    // 1000.00 + 26 × 1.00 − 2.50, with the currency's two decimals as the API wrote them.
    expect(await text("#player-balance")).toBe("1023.50");
    expect(await text("#player-currency")).toBe("EUR");
    expect(await text("#player-profile")).toContain("Demo 1");

    const rows = page.locator("#ledger tbody tr");
    expect(await rows.count()).toBe(25);
    const newest = await rows.nth(0).locator("td").allTextContents();
    expect(newest.slice(2, 7)).toEqual(["debit-0001", "apply", "Debit", "-2.50", "1023.50"]);
    expect(newest[7]).toContain("game_id: mega-jackpot");
    expect((await rows.nth(1).locator("td").allTextContents()).slice(2, 7)).toEqual([
      "credit-0026",
      "apply",
      "Credit",
      "1.00",
      "1026.00",
    ]);
    await screenshot("2-player", 960);

    await page.click("#ledger-older");
    await expect.poll(() => rows.count()).toBe(2);
    expect((await rows.nth(1).locator("td").allTextContents()).slice(2, 7)).toEqual([
      "credit-0001",
      "apply",
      "Credit",
      "1.00",
      "1001.00",
    ]);
    await screenshot("3-player-ledger-older");
    await page.click("#ledger-newest");
    await expect.poll(() => rows.count()).toBe(25);
  });

  it("looks up the Debit's id: applied, its amount and batch, and the ledger entry it caused", async () => {
    await page.click("nav a[data-page=transaction]");
    await page.fill("#transaction-id-input", "debit-0001");
    await page.click("#transaction-form button");
    await page.locator("#transaction-result").waitFor();
    expect(await text("#transaction-status")).toBe("applied");
    const fields = await text("#transaction-fields");
    expect(fields).toContain("player_00001");
    expect(fields).toContain("Debit");
    expect(fields).toContain("2.50");
    const entry = await page
      .locator("#transaction-entries tbody tr")
      .nth(0)
      .locator("td")
      .allTextContents();
    expect(entry.slice(2, 6)).toEqual(["apply", "Debit", "-2.50", "1023.50"]);
    await screenshot("4-transaction");

    // A credit of the batch, reached from its own row: the batch id is shown.
    await page.fill("#transaction-id-input", "credit-0001");
    await page.click("#transaction-form button");
    await expect.poll(() => text("#transaction-fields")).toContain("batch-0001");

    // A refused Debit: the code and balance it was answered, and no ledger entry.
    await page.fill("#transaction-id-input", "debit-refused");
    await page.click("#transaction-form button");
    await expect.poll(() => text("#transaction-status")).toBe("refused");
    expect(await text("#transaction-fields")).toContain("INSUFFICIENT_FUNDS");
    expect(await text("#transaction-fields")).toContain("5000.00");
    expect(await page.locator("#transaction-no-entries").isVisible()).toBe(true);
    await screenshot("4-transaction-refused");

    await page.fill("#transaction-id-input", "never-seen");
    await page.click("#transaction-form button");
    await page.locator("#transaction-error").waitFor();
    expect(await text("#transaction-error")).toBe(
      "NOT_FOUND: the wallet has never seen transaction never-seen",
    );
  });

  it("shows a reconciliation that is exact", async () => {
    await page.click("nav a[data-page=reconcile]");
    await page.click("#reconcile-run");
    await page.locator("#reconcile-result").waitFor();
    expect(await text("#reconcile-verdict")).toBe("Exact");
    expect(await text("#reconcile-counts")).toContain("3 players and 30 transaction ids");
    expect(await page.locator("#reconcile-balances").isHidden()).toBe(true);
    expect(await page.locator("#reconcile-transactions").isHidden()).toBe(true);
    // Recorded as a manual run: the front page's last run is this one now.
    await expect.poll(() => text("#last-run-text")).toContain("manual run");
    expect(await text("#last-run-verdict")).toBe("Exact");
    await screenshot("5-reconcile");
  });

  it("transfers money in and out exactly once per id, and shows a refusal in the API's words", async () => {
    await page.click("nav a[data-page=player]");
    await page.fill("#player-id-input", "player_00001");
    await page.click("#player-form button");
    // The search hides the player until its answer is shown whole (a fresh transfer id included).
    await page.locator("#player-result").waitFor();
    expect(await text("#player-balance")).toBe("1023.50");
    expect(await text("#player-status")).toBe("active");

    const transferId = await page.inputValue("#transfer-id");
    expect(transferId).toMatch(/^console-[0-9a-f-]{36}$/);
    await page.selectOption("#transfer-direction", "in");
    await page.fill("#transfer-amount", "10.00");
    await page.fill("#transfer-reason", "bank deposit");
    await page.click("#transfer-form button");
    await expect.poll(() => text("#transfer-result")).toContain("applied: balance 1033.50 EUR");
    expect(await text("#player-balance")).toBe("1033.50");
    const newest = await page.locator("#ledger tbody tr").nth(0).locator("td").allTextContents();
    expect(newest.slice(2, 7)).toEqual([transferId, "apply", "TransferIn", "10.00", "1033.50"]);
    expect(newest[7]).toContain("reason: bank deposit");
    // A new id for the next transfer; the old one sent again moves nothing.
    expect(await page.inputValue("#transfer-id")).not.toBe(transferId);
    await page.fill("#transfer-id", transferId);
    await page.click("#transfer-form button");
    await expect.poll(() => text("#transfer-result")).toContain("balance 1033.50 EUR");
    expect(await text("#player-balance")).toBe("1033.50");
    const rows = page.locator("#ledger tbody tr").filter({ hasText: transferId });
    expect(await rows.count()).toBe(1);

    await page.selectOption("#transfer-direction", "out");
    await page.fill("#transfer-amount", "5000.00");
    await page.click("#transfer-form button");
    await expect.poll(() => text("#transfer-result")).toContain("INSUFFICIENT_FUNDS");
    expect(await text("#player-balance")).toBe("1033.50");
    await screenshot("6-player-transfer", 720);
  });

  it("suspends and reopens a player, and revokes its sessions", async () => {
    await page.selectOption("#status-select", "suspended");
    await page.click("#status-form button[type=submit]");
    await expect.poll(() => text("#status-result")).toBe("Status is now suspended.");
    expect(await text("#player-status")).toBe("suspended");
    const refused = await client.wallet("POST", "/wallet/transaction", {
      player_id: "player_00001",
      transaction_id: "debit-while-suspended",
      transaction_type: "Debit",
      provider_id: "thrillpots",
      amount: "1.00",
      currency: "EUR",
    });
    expect(refused.status, refused.text).toBe(403);

    await page.selectOption("#status-select", "active");
    await page.click("#status-form button[type=submit]");
    await expect.poll(() => text("#status-result")).toBe("Status is now active.");
    expect(await text("#player-status")).toBe("active");
    await page.click("#revoke-sessions");
    await expect.poll(() => text("#status-result")).toContain("session(s) revoked");
  });

  it("shows today's daily report: counts, exact amounts and GGR per brand and currency", async () => {
    await page.click("nav a[data-page=daily]");
    await page.click("#daily-form button");
    await page.locator("#daily-result").waitFor();
    const row = page.locator("#daily-table tbody tr").filter({ hasText: "brand1" });
    const cells = await row.locator("td").allTextContents();
    // Three Debits (2.50 + 1.00 + 1.00), 26 Credits of 1.00, the one transfer in of 10.00.
    expect(cells.slice(1, 11)).toEqual([
      "thrilltech",
      "brand1",
      "EUR",
      "4.50 (3)",
      "26.00 (26)",
      "0.00 (0)",
      "0.00 (0)",
      "10.00 (1)",
      "0.00 (0)",
      "-21.50",
    ]);
    await screenshot("7-daily-report");
  });

  it("shows a hostile player id, nickname and metadata as the characters they are, and runs none of them", async () => {
    // The hostile player id, as the owner of a transaction.
    await page.click("nav a[data-page=transaction]");
    await page.fill("#transaction-id-input", "debit-hostile-owner");
    await page.click("#transaction-form button");
    await expect.poll(() => text("#transaction-fields")).toContain(HOSTILE);
    expect(await page.locator("#transaction-fields dd button").textContent()).toBe(HOSTILE);
    await screenshot("7-hostile-transaction");

    // A hostile nickname in the profile, hostile metadata in the ledger.
    await page.click("nav a[data-page=player]");
    await page.fill("#player-id-input", "player_00002");
    await page.click("#player-form button");
    await expect.poll(() => text("#player-id")).toBe("player_00002");
    await page.locator("#player-result").waitFor();
    expect(await page.locator("#player-profile dd").nth(3).textContent()).toBe(HOSTILE);
    const metadata = await page
      .locator("#ledger tbody tr")
      .nth(0)
      .locator("td.metadata")
      .textContent();
    expect(metadata).toContain(`round_id: ${HOSTILE}`);
    expect(metadata).toContain(`game_id: ${HOSTILE_SCRIPT}`);
    await screenshot("8-hostile-player");

    // The hostile id typed into the search: shown as text whether the wallet finds it or not.
    await page.fill("#player-id-input", HOSTILE);
    await page.click("#player-form button");
    await expect
      .poll(
        async () =>
          (await page.locator("#player-error").isVisible()) ||
          (await text("#player-id")) === HOSTILE,
      )
      .toBe(true);
    await screenshot("9-hostile-search");

    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
    expect(dialogs).toEqual([]);
  });

  it("after the archive job moved the day to R2, shows where the live ledger starts and an id's archived day", async () => {
    // The Cron Trigger as of 37 days from now (Miniflare's scheduled endpoint takes a time): every
    // row written so far is then archived (docs/archive.md).
    const timeMs = Date.now() + 37 * 86_400_000;
    const fired = await fetch(
      `${wallet.url}/cdn-cgi/handler/scheduled?cron=15+0+*+*+*&time=${timeMs}`,
    );
    expect(fired.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);

    await page.click("nav a[data-page=player]");
    await page.fill("#player-id-input", "player_00001");
    await page.click("#player-form button");
    await page.locator("#player-result").waitFor();
    await page.locator("#ledger-archived").waitFor();
    expect(await page.locator("#ledger tbody tr").count()).toBe(0);
    expect(await text("#ledger-archived")).toMatch(
      new RegExp(`^Older: [0-9]+ entries archived, through ${today} \\(UTC\\)`),
    );

    await page.click("nav a[data-page=transaction]");
    await page.fill("#transaction-id-input", "debit-0001");
    await page.click("#transaction-form button");
    await expect.poll(() => text("#transaction-fields")).toContain(`with the day ${today} (UTC)`);
    expect(await text("#transaction-status")).toBe("applied");
    const entry = await page
      .locator("#transaction-entries tbody tr")
      .nth(0)
      .locator("td")
      .allTextContents();
    expect(entry.slice(2, 6)).toEqual(["apply", "Debit", "-2.50", "1023.50"]);
  });

  it("raised no script error and no CSP violation on any page", () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
