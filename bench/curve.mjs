// `npm run bench -- --curve`: how the wallet's cost grows with work, at RTT 0 and at a modelled
// D1 round trip. P3: time of one batch of 10, 100 and 1,000 credits (spread over as many players
// as items, up to --players). P1: throughput and p99 at 1, 8 and 64 connections. Prints the table,
// writes bench/results/curve.json and bench/results/curve.svg (plain SVG, no dependencies).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../scripts/lib/local-wallet.mjs";
import { createPlayers, playerId, spread } from "./scenarios.mjs";

export const CURVE_RTTS_MS = [0, 25];
export const CURVE_BATCH_SIZES = [10, 100, 1000];
export const CURVE_CONNECTIONS = [1, 8, 64];
const BATCHES_PER_POINT = 3;

export async function runCurve(
  opts,
  { startServer, stopAll, copy, warm, load, batch, rttVars, progress },
) {
  // Both wallets stay up and every point is measured at each RTT back to back, so a busy
  // machine slows both lines of the chart alike.
  const wallets = [];
  for (const rtt of CURVE_RTTS_MS) {
    const wallet = await startServer(`wallet at RTT ${rtt}`, join(copy, "wrangler.toml"), {
      ...opts.vars,
      ...rttVars(rtt),
    });
    const ids = Array.from({ length: opts.players }, (_, n) => playerId(n));
    progress(`creating ${ids.length} players`);
    await createPlayers({ url: wallet.url, adminToken: wallet.adminToken, ids });
    await warm(wallet, opts, "P1", spread(opts.players));
    wallets.push({ rtt, wallet });
  }
  const points = [];
  for (const size of CURVE_BATCH_SIZES.filter((n) => n <= opts.batchSize)) {
    for (const { rtt, wallet } of wallets) {
      const r = await batch(
        wallet,
        { ...opts, batchPlayers: Math.min(size, opts.players) },
        `P3 curve ${rtt} ${size}`,
        size,
        BATCHES_PER_POINT,
      );
      points.push({
        rtt_ms: rtt,
        kind: "P3",
        x: size,
        batch_ms: r.median_batch_ms,
        errors: r.errors + r.non_2xx,
      });
    }
  }
  for (const connections of CURVE_CONNECTIONS) {
    for (const { rtt, wallet } of wallets) {
      const r = await load(
        wallet,
        opts,
        `P1 curve ${rtt} ${connections}`,
        spread(opts.players),
        connections,
      );
      points.push({
        rtt_ms: rtt,
        kind: "P1",
        x: connections,
        requests_per_s: Math.round(r.requests_per_s),
        p99_ms: r.p99_ms,
        errors: r.errors + r.non_2xx,
      });
    }
  }
  await stopAll();
  points.sort(
    (a, b) =>
      a.rtt_ms - b.rtt_ms ||
      a.kind.localeCompare(b.kind, "en", { numeric: true }) * -1 ||
      a.x - b.x,
  );
  const curve = { points, growth: growthOf(points) };
  const dir = join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "curve.json"),
    `${JSON.stringify({ date: new Date().toISOString(), options: opts, ...curve }, null, 2)}\n`,
  );
  writeFileSync(join(dir, "curve.svg"), curveSvg(points));
  printCurve(curve);
  const failed = points.filter((p) => p.errors > 0);
  if (failed.length > 0)
    throw new Error(
      `curve points with errors: ${failed.map((p) => `${p.kind} ${p.x} at RTT ${p.rtt_ms}`).join(", ")}`,
    );
  return curve;
}

/** One line per cost: how it grows from the smallest to the largest x (the exponent of a power law). */
function growthOf(points) {
  const lines = [];
  for (const rtt of CURVE_RTTS_MS) {
    for (const [kind, field] of [
      ["P3", "batch_ms"],
      ["P1", "requests_per_s"],
      ["P1", "p99_ms"],
    ]) {
      const series = points.filter((p) => p.rtt_ms === rtt && p.kind === kind && p[field] > 0);
      if (series.length < 2) continue;
      const [a, b] = [series[0], series[series.length - 1]];
      const exponent = Math.log(b[field] / a[field]) / Math.log(b.x / a.x);
      const shape =
        exponent < 0.2
          ? "flat"
          : exponent < 0.8
            ? "sub-linear"
            : exponent < 1.2
              ? "linear"
              : "super-linear";
      lines.push({
        rtt_ms: rtt,
        cost: `${kind} ${field}`,
        from: a[field],
        to: b[field],
        x_from: a.x,
        x_to: b.x,
        exponent: Math.round(exponent * 100) / 100,
        shape,
      });
    }
  }
  return lines;
}

function printCurve({ points, growth }) {
  console.log("\ncost curve (medians of 3 batches per P3 point; one load run per P1 point)\n");
  console.log("RTT ms  scenario  x          batch ms  req/s  p99 ms");
  for (const p of points) {
    const x = p.kind === "P3" ? `${p.x} items` : `${p.x} conns`;
    console.log(
      `${String(p.rtt_ms).padEnd(6)}  ${p.kind.padEnd(8)}  ${x.padEnd(9)}  ${String(p.batch_ms ?? "").padEnd(8)}  ${String(p.requests_per_s ?? "").padEnd(5)}  ${p.p99_ms ?? ""}`,
    );
  }
  console.log("\nhow each cost grows (exponent k of cost ∝ x^k, first to last point):");
  for (const g of growth)
    console.log(
      `  RTT ${g.rtt_ms} ms, ${g.cost}: ${g.from} → ${g.to} for x ${g.x_from} → ${g.x_to}: k = ${g.exponent}, ${g.shape}`,
    );
  console.log(`chart: bench/results/curve.svg`);
}

// Three panels, log-scaled x, one line per RTT. Plain SVG text: readable anywhere.
export function curveSvg(points) {
  const panels = [
    {
      title: "P3: time of one batch (ms)",
      kind: "P3",
      field: "batch_ms",
      xLabel: "credits per batch",
    },
    { title: "P1: throughput (req/s)", kind: "P1", field: "requests_per_s", xLabel: "connections" },
    { title: "P1: p99 latency (ms)", kind: "P1", field: "p99_ms", xLabel: "connections" },
  ];
  const W = 300;
  const H = 220;
  const pad = { left: 50, right: 15, top: 30, bottom: 40 };
  const colors = { 0: "#1f77b4", 25: "#d62728" };
  const parts = [];
  panels.forEach((panel, i) => {
    const ox = i * W;
    const series = CURVE_RTTS_MS.map((rtt) => ({
      rtt,
      pts: points.filter((p) => p.kind === panel.kind && p.rtt_ms === rtt && p[panel.field] > 0),
    }));
    const all = series.flatMap((s) => s.pts);
    if (all.length === 0) return;
    const xs = all.map((p) => Math.log10(p.x));
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const yMax = Math.max(...all.map((p) => p[panel.field])) * 1.1;
    const px = (x) =>
      ox + pad.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (W - pad.left - pad.right);
    const py = (y) => pad.top + (1 - y / yMax) * (H - pad.top - pad.bottom);
    parts.push(
      `<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${panel.title}</text>`,
    );
    parts.push(
      `<line x1="${ox + pad.left}" y1="${H - pad.bottom}" x2="${ox + W - pad.right}" y2="${H - pad.bottom}" stroke="#333"/>`,
    );
    parts.push(
      `<line x1="${ox + pad.left}" y1="${pad.top}" x2="${ox + pad.left}" y2="${H - pad.bottom}" stroke="#333"/>`,
    );
    for (const frac of [0, 0.5, 1]) {
      const y = yMax * frac;
      parts.push(
        `<text x="${ox + pad.left - 4}" y="${py(y) + 4}" text-anchor="end" font-size="10">${Math.round(y)}</text>`,
      );
    }
    for (const x of [...new Set(all.map((p) => p.x))])
      parts.push(
        `<text x="${px(x)}" y="${H - pad.bottom + 14}" text-anchor="middle" font-size="10">${x}</text>`,
      );
    parts.push(
      `<text x="${ox + W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${panel.xLabel} (log scale)</text>`,
    );
    for (const s of series) {
      if (s.pts.length === 0) continue;
      const path = s.pts
        .map((p) => `${px(p.x).toFixed(1)},${py(p[panel.field]).toFixed(1)}`)
        .join(" ");
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${colors[s.rtt] ?? "#555"}" stroke-width="2"/>`,
      );
      for (const p of s.pts)
        parts.push(
          `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p[panel.field]).toFixed(1)}" r="3" fill="${colors[s.rtt] ?? "#555"}"><title>${p[panel.field]}</title></circle>`,
        );
    }
  });
  const legend = CURVE_RTTS_MS.map(
    (rtt, i) =>
      `<rect x="${10 + i * 170}" y="${H + 4}" width="12" height="12" fill="${colors[rtt]}"/><text x="${28 + i * 170}" y="${H + 14}" font-size="12">D1 round trip ${rtt} ms</text>`,
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H + 24}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${parts.join("\n")}
${legend}
</svg>
`;
}
