// The Worker as Cloudflare would receive it, and what its first request pays before running:
// `wrangler deploy --dry-run` (size, gzip, each package's share from esbuild's metafile) and
// `wrangler check startup` (a CPU profile of the script's evaluation in a local workerd).
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { runWrangler } from "../scripts/lib/local-wallet.mjs";

const kib = (bytes) => Math.round(bytes / 102.4) / 10;

function wrangler(config, args) {
  const run = runWrangler([...args, "--config", config], {
    cwd: dirname(config),
    env: { NO_COLOR: "1" },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0)
    throw new Error(`wrangler ${args[0]} failed: ${run.stderr || run.stdout}`.slice(0, 1000));
  return run.stdout;
}

// node_modules/zod/v4/core/x.js → "zod/v4/core"; drizzle-orm/pg-core/… → "drizzle-orm/pg-core"
function packageOf(input) {
  const match = input.match(
    /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:(v4\/(?:classic|mini|core|locales))|(pg-core|sqlite-core|d1)\/)?/,
  );
  if (!match) return "src (edge-wallet)";
  return [match[1], match[2] ?? match[3]].filter(Boolean).join("/");
}

export async function bundleReport(config) {
  const dir = mkdtempSync(join(tmpdir(), "edge-wallet-bundle-"));
  try {
    wrangler(config, [
      "deploy",
      "--dry-run",
      "--outdir",
      dir,
      "--metafile",
      join(dir, "meta.json"),
    ]);
    const code = readFileSync(join(dir, "index.js"));
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    const output = Object.entries(meta.outputs).find(([file]) => file.endsWith("index.js"))?.[1];
    const byPackage = {};
    for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {}))
      byPackage[packageOf(input)] = (byPackage[packageOf(input)] ?? 0) + bytesInOutput;
    // esbuild's bytesInOutput are before minification: shares, not sizes, when minify is on.
    const total = Object.values(byPackage).reduce((a, b) => a + b, 0);
    const minified = /^\s*minify\s*=\s*true/m.test(readFileSync(config, "utf8"));
    return {
      bytes: statSync(join(dir, "index.js")).size,
      kib: kib(code.length),
      gzip_kib: kib(gzipSync(code).length),
      minified,
      by_package: Object.entries(byPackage)
        .sort((a, b) => b[1] - a[1])
        .map(([name, bytes]) => [name, kib((bytes / total) * code.length)]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU time of the script's evaluation at startup (idle and program samples left out). */
export async function startupReport(config) {
  const dir = mkdtempSync(join(tmpdir(), "edge-wallet-startup-"));
  try {
    const outfile = join(dir, "startup.cpuprofile");
    wrangler(config, ["check", "startup", "--outfile", outfile]);
    const profile = JSON.parse(readFileSync(outfile, "utf8"));
    const idle = new Set(
      profile.nodes
        .filter((n) => ["(idle)", "(program)", "(root)"].includes(n.callFrame.functionName))
        .map((n) => n.id),
    );
    let us = 0;
    profile.samples.forEach((node, i) => {
      if (!idle.has(node)) us += profile.timeDeltas[i] ?? 0;
    });
    return { cpu_ms: Math.round(us / 100) / 10, samples: profile.samples.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
