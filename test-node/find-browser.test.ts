import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BROWSER_NAMES, findBrowser } from "../scripts/lib/find-browser.mjs";
import { REPO_ROOT } from "../scripts/lib/local-wallet.mjs";

// scripts/lib/find-browser.mjs: where the console test and .ci/run look for a browser. Each case
// builds its own PATH of temporary directories, so what this machine has installed plays no part.

const root = mkdtempSync(join(tmpdir(), "find-browser-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A new directory holding `files` (name → executable or not). */
function dirWith(files: Record<string, boolean>): string {
  dirs += 1;
  const dir = join(root, `d${dirs}`);
  mkdirSync(dir);
  for (const [name, executable] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, "#!/bin/sh\nexit 0\n");
    chmodSync(path, executable ? 0o755 : 0o644);
  }
  return dir;
}

const pathOf = (...entries: string[]) => entries.join(":");

describe("findBrowser", () => {
  it("finds an executable named google-chrome in a directory on the PATH", () => {
    const dir = dirWith({ "google-chrome": true });
    const found = findBrowser({ PATH: pathOf(dirWith({}), dir) });
    expect(found.path).toBe(join(dir, "google-chrome"));
  });

  it("prefers the names in their order over the order of the PATH", () => {
    const chrome = dirWith({ "google-chrome-stable": true });
    const chromium = dirWith({ "chromium-browser": true });
    expect(findBrowser({ PATH: pathOf(chrome, chromium) }).path).toBe(
      join(chromium, "chromium-browser"),
    );
  });

  it("skips a file that is not executable, and a directory by the name", () => {
    const plain = dirWith({ chromium: false });
    const withDir = dirWith({});
    mkdirSync(join(withDir, "chromium"));
    const chrome = dirWith({ "google-chrome": true });
    expect(findBrowser({ PATH: pathOf(plain, withDir, chrome) }).path).toBe(
      join(chrome, "google-chrome"),
    );
  });

  it("CHROMIUM_PATH wins over anything on the PATH, and alone is looked at when set", () => {
    const own = join(dirWith({ "my-browser": true }), "my-browser");
    const onPath = dirWith({ chromium: true });
    expect(findBrowser({ CHROMIUM_PATH: own, PATH: onPath }).path).toBe(own);

    const missing = join(root, "no-such-browser");
    const found = findBrowser({ CHROMIUM_PATH: missing, PATH: onPath });
    expect(found.path).toBeNull();
    expect(found.message).toContain(`CHROMIUM_PATH=${missing} is not an executable file`);
    expect(found.message).toContain("apt-get install -y chromium");
  });

  it("nothing found: the message lists the names and directories tried and how to install one", () => {
    const a = dirWith({ firefox: true });
    const b = dirWith({ chromium: false });
    const found = findBrowser({ PATH: pathOf(a, "", "relative/bin", b) });
    expect(found.path).toBeNull();
    for (const name of BROWSER_NAMES) expect(found.message).toContain(name);
    expect(BROWSER_NAMES).toEqual([
      "chromium",
      "chromium-browser",
      "google-chrome-stable",
      "google-chrome",
    ]);
    expect(found.message).toContain(`(${a}, ${b})`);
    expect(found.message).toContain("apt-get install -y chromium");
    expect(found.message).toContain("set CHROMIUM_PATH");
  });

  it("as a command: prints the path and exits 0, or the message and exits 1", async () => {
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(REPO_ROOT, "scripts", "lib", "find-browser.mjs")],
          { env, timeout: 30_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const dir = dirWith({ chromium: true });
    expect(await run({ PATH: dir })).toEqual({
      code: 0,
      stdout: `${join(dir, "chromium")}\n`,
      stderr: "",
    });
    const none = await run({ PATH: dirWith({}) });
    expect(none.code).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("none of chromium, chromium-browser");
  });
});
