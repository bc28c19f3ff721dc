// Starts the wallet as `wrangler dev` on 127.0.0.1 with its own local D1 (migrated) in a
// temporary folder, for the tools that drive it over HTTP: the simulator's test, the bench,
// the chaos run. Nothing here talks to anything but 127.0.0.1.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WRANGLER = join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const DEV_WITHOUT_INSPECTOR = join(REPO_ROOT, "scripts", "lib", "wrangler-dev-api.mjs");

// How every script runs wrangler: the project's own binary, no metrics, no Request.cf sample
// fetched from the internet at start-up, and no interactive prompts (CI).
const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
};

/** Starts `command <args>` with wrangler's environment (spawn options; `env` adds to it). */
function spawnWithWranglerEnv(command, args, options) {
  return spawn(command, args, {
    ...options,
    env: { ...process.env, ...WRANGLER_ENV, ...options.env },
  });
}

/** Starts `wrangler <args>` (node:child_process spawn options; `env` adds to the process's own). */
export function spawnWrangler(args, options = {}) {
  return spawnWithWranglerEnv(WRANGLER, args, options);
}

/** Runs `wrangler <args>` to its end (spawnSync options; `env` adds to the process's own). */
export function runWrangler(args, options = {}) {
  return spawnSync(WRANGLER, args, {
    ...options,
    env: { ...process.env, ...WRANGLER_ENV, ...options.env },
  });
}

/**
 * The D1 bindings of a wrangler.toml, in the order it lists them: the index (DB) and the shards.
 * Every one of them gets every migration.
 */
export function d1Bindings(config = join(REPO_ROOT, "wrangler.toml")) {
  const text = readFileSync(config, "utf8");
  return text
    .split(/^\[\[/m)
    .filter((block) => block.startsWith("d1_databases]]"))
    .map((block) => /^binding\s*=\s*"([^"]+)"/m.exec(block)?.[1])
    .filter(Boolean);
}

/** LEDGER_SHARDS of a wrangler.toml's [vars] (src/config.ts ledgerShardNames): the shards, in order. */
export function ledgerShards(config = join(REPO_ROOT, "wrangler.toml")) {
  const listed = /^LEDGER_SHARDS\s*=\s*"([^"]*)"/m.exec(readFileSync(config, "utf8"))?.[1] ?? "";
  const names = listed
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return names.length > 0 ? names : ["DB"];
}

/**
 * `wrangler d1 migrations apply` for every D1 binding of `config` (`where`: ["--local",
 * "--persist-to", dir] or ["--remote"]). Returns the first failed run, or null.
 */
export function migrateAll(config, where, options = {}) {
  for (const binding of d1Bindings(config)) {
    const run = runWrangler(["d1", "migrations", "apply", binding, ...where, "--config", config], {
      env: TOOL_ENV,
      encoding: "utf8",
      ...options,
    });
    if (run.status !== 0) return { binding, ...run };
  }
  return null;
}

/**
 * Flags of every local `wrangler dev` the CLI starts (npm start, startLocalWallet): wrangler's
 * scheduled test endpoint, so `curl "<url>/__scheduled?cron=15+0+*+*+*"` runs the nightly jobs
 * of the Cron Trigger on demand (the console test fires it that way).
 */
export const LOCAL_DEV_FLAGS = ["--test-scheduled"];

// Tools read wrangler's output as text: no colour codes.
const TOOL_ENV = { NO_COLOR: "1" };

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {{ vars?: Record<string, string>, config?: string, log?: (line: string) => void, inspector?: boolean }} options
 *   vars: extra [vars] (e.g. { ACCEPT_ZERO_VALUE_CREDITS: "false" }); config: another wrangler.toml;
 *   log: receives wrangler's output lines (default: dropped); inspector: false runs it without the
 *   inspector the CLI attaches to workerd (wrangler-dev-api.mjs: for the bench's CPU figures; it
 *   has no /__scheduled either). The CLI's runs take LOCAL_DEV_FLAGS, as npm start does.
 * @returns {Promise<{ url: string, secret: string, adminToken: string, stop: () => Promise<void>, persistDir: string }>}
 */
export async function startLocalWallet(options = {}) {
  const config = options.config ?? join(REPO_ROOT, "wrangler.toml");
  const persistDir = mkdtempSync(join(tmpdir(), "edge-wallet-"));
  const port = await freePort();
  const secret = randomBytes(24).toString("hex");
  const adminToken = randomBytes(24).toString("hex");
  const failed = migrateAll(config, ["--local", "--persist-to", persistDir]);
  if (failed)
    throw new Error(`migrations of ${failed.binding} failed:\n${failed.stdout}\n${failed.stderr}`);

  const vars = { WALLET_HMAC_SECRET: secret, ADMIN_TOKEN: adminToken, ...options.vars };
  const args = [
    "dev",
    "--config",
    config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persistDir,
  ];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  // Its own process group, so stop() ends wrangler and the workerd it started.
  const spawnOptions = { env: TOOL_ENV, stdio: ["ignore", "pipe", "pipe"], detached: true };
  const child =
    options.inspector === false
      ? // The launcher takes the flags of `wrangler dev`, without the command itself.
        spawnWithWranglerEnv(
          process.execPath,
          [DEV_WITHOUT_INSPECTOR, ...args.slice(1)],
          spawnOptions,
        )
      : spawnWrangler(
          [
            ...args,
            ...LOCAL_DEV_FLAGS,
            "--show-interactive-dev-session=false",
            "--inspector-port",
            String(await freePort()),
          ],
          spawnOptions,
        );
  const log = options.log ?? (() => {});
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => chunk.split("\n").filter(Boolean).forEach(log));
  }

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
          resolve();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    rmSync(persistDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited with ${child.exitCode} before answering`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the wallet did not answer ${url}/health in 120 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, secret, adminToken, stop, persistDir };
}
