// The load shapes of `npm run bench`: signed requests as ThrillGate sends them, each with a
// transaction id never used before (a repeated id would be an idempotent replay, not a write).
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

// Unique per run, so ids never collide with an earlier run's, whatever database is behind the URL.
const RUN_TAG = randomBytes(4).toString("hex");
const AMOUNT = "0.01";
const BATCH_TIMEOUT_MS = 120_000;

export const playerId = (n) => `bench_${String(n).padStart(5, "0")}`;
export const HOT_PLAYER = "bench_hot";

/** X-Server-Authorization: hex HMAC-SHA256 of the exact body bytes (the spec's "Transport"). */
export function sign(body, secret) {
  return createHmac("sha256", secret).update(body).digest("hex");
}

function transaction(scenario, n, player, type, idOf) {
  return {
    player_id: player,
    transaction_id: idOf ? idOf(n) : `${RUN_TAG}-${scenario.replace(/\W+/g, "_")}-${n}`,
    transaction_type: type,
    provider_id: "bench",
    amount: AMOUNT,
    currency: "EUR",
  };
}

// Request n goes to player n % players; each player sees Credit, Debit, Credit… so no balance
// ever drops below its opening one (a Debit refused for funds would be a non-2xx).
export const spread = (players) => (n) => ({
  player: playerId(n % players),
  type: Math.floor(n / players) % 2 ? "Debit" : "Credit",
});
export const hot = () => (n) => ({ player: HOT_PLAYER, type: n % 2 ? "Debit" : "Credit" });

/**
 * The server's processes (wrangler, its workerd and esbuild): the process group of the wrangler
 * listening on `url`'s port. Linux only (/proc); elsewhere the server's CPU goes unmeasured.
 */
export function serverPids(url) {
  if (!existsSync("/proc/self/stat")) return [];
  const rows = execFileSync("ps", ["-eo", "pid=,pgid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, pgid, ...args]) => ({ pid, pgid, args: args.join(" ") }));
  const wrangler = rows.find(
    (row) => row.args.includes("wrangler") && row.args.includes(`--port ${new URL(url).port}`),
  );
  return wrangler ? rows.filter((row) => row.pgid === wrangler.pgid).map((row) => row.pid) : [];
}

/** The workerd processes among `pids`, with their arguments (wrangler's own Node process left out). */
function workerdsOf(pids) {
  return pids.flatMap((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return cmdline.includes("workerd") ? [{ pid, args: cmdline.split("\0") }] : [];
    } catch {
      return []; // the process ended
    }
  });
}

/**
 * True if an inspector is attached to a workerd of the server: every console.log then goes
 * through it (scripts/lib/wrangler-dev-api.mjs), so the bench's CPU figures need it off.
 */
export function inspectorAttached(pids) {
  return workerdsOf(pids).some((w) => w.args.some((arg) => arg.startsWith("--inspector-addr")));
}

const TICKS_PER_S = existsSync("/proc/self/stat")
  ? Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }))
  : 100;

function cpuMsOf(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended
    }
  }
  return (ticks * 1000) / TICKS_PER_S;
}

/**
 * CPU use while a scenario ran: the server's CPU time per transaction says what one costs it;
 * the host's busy share (all cores) and this process's (the load generator shares the machine
 * with wrangler and workerd) say whether the run was CPU-bound.
 */
function cpuMeter(pids, work) {
  const hostTimes = () =>
    cpus().reduce(
      (sum, cpu) => ({
        idle: sum.idle + cpu.times.idle,
        total: sum.total + Object.values(cpu.times).reduce((a, b) => a + b, 0),
      }),
      { idle: 0, total: 0 },
    );
  const host0 = hostTimes();
  const server0 = cpuMsOf(pids);
  // workerd runs the Worker, the objects and D1; the rest is wrangler's own Node process
  // (its proxy in front of workerd and the log lines it prints), which production does not have.
  const workerdPids = workerdsOf(pids).map((w) => w.pid);
  const workerd0 = cpuMsOf(workerdPids);
  const self0 = process.cpuUsage();
  const start = performance.now();
  return () => {
    const host1 = hostTimes();
    const self = process.cpuUsage(self0);
    const wallMs = performance.now() - start;
    const serverMs = cpuMsOf(pids) - server0;
    const workerdMs = cpuMsOf(workerdPids) - workerd0;
    return {
      host_busy_pct: Math.round(
        100 * (1 - (host1.idle - host0.idle) / (host1.total - host0.total)),
      ),
      client_pct_of_one_core: Math.round((self.user + self.system) / 10 / wallMs),
      server_pct_of_one_core: pids.length > 0 ? Math.round((100 * serverMs) / wallMs) : null,
      server_cpu_ms_per_item:
        pids.length > 0 && work() > 0 ? Math.round((100 * serverMs) / work()) / 100 : null,
      workerd_cpu_ms_per_item:
        workerdPids.length > 0 && work() > 0 ? Math.round((100 * workerdMs) / work()) / 100 : null,
    };
  };
}

/** Keeps the first few failed answers, so a failed run says why. */
function failureLog() {
  const samples = [];
  return { samples, add: (line) => samples.length < 5 && samples.push(line.slice(0, 300)) };
}

/**
 * `connections` clients send signed POST /wallet/transaction for `durationS` seconds, or until
 * `maxRequests` answers if that comes first. `idOf(n)` names request n's transaction (default: the
 * run's tag, the scenario and n). `onAnswer(latencyMs, status)`, if given, is called as each
 * answer arrives, so a caller can split the load into windows by time (the soak: with the archive
 * job running, and without).
 */
export async function runLoad({
  url,
  secret,
  pids = [],
  scenario,
  pick,
  connections,
  durationS,
  maxRequests,
  idOf,
  onAnswer,
}) {
  let n = 0;
  let answered = 0;
  const failures = failureLog();
  const cpu = cpuMeter(pids, () => answered);
  const instance = autocannon({
    url,
    connections,
    duration: durationS,
    ...(maxRequests ? { maxOverallRequests: maxRequests } : {}),
    requests: [
      {
        method: "POST",
        path: "/wallet/transaction",
        // Called for every request: a fresh id, and the signature of exactly these bytes.
        setupRequest: (request) => {
          const { player, type } = pick(n);
          const body = JSON.stringify(transaction(scenario, n++, player, type, idOf));
          return {
            ...request,
            body,
            headers: {
              ...request.headers,
              "content-type": "application/json",
              "x-server-authorization": sign(body, secret),
            },
          };
        },
        onResponse: (status, body) => {
          answered++;
          if (status < 200 || status > 299) failures.add(`${status} ${body}`);
        },
      },
    ],
  });
  // autocannon's own per-answer event: its latency, which onResponse above is not given.
  if (onAnswer)
    instance.on("response", (_client, status, _bytes, latencyMs) => onAnswer(latencyMs, status));
  const result = await instance;
  return {
    scenario,
    connections,
    duration_s: durationS,
    requests: result.requests.total,
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    errors: result.errors + result.timeouts,
    non_2xx: result.non2xx,
    failures: failures.samples,
    cpu: cpu(),
  };
}

/**
 * `batches` sequential POST /wallet/transaction/batch, each `batchSize` credits spread over
 * `players`, timed one by one. Errors count items answered "ERROR" and requests not answered.
 */
export async function runBatches({
  url,
  secret,
  pids = [],
  scenario,
  players,
  batches,
  batchSize,
}) {
  const failures = failureLog();
  const batchMs = [];
  const d1Ms = [];
  let errors = 0;
  let non2xx = 0;
  const cpu = cpuMeter(pids, () => batchMs.length * batchSize);
  for (let b = 0; b < batches; b++) {
    const items = Array.from({ length: batchSize }, (_, i) =>
      transaction(scenario, b * batchSize + i, playerId(i % players), "Credit"),
    );
    const body = JSON.stringify({
      batch_id: `${RUN_TAG}-${scenario.replace(/\W+/g, "_")}-${b}`,
      transactions: items,
    });
    const start = performance.now();
    let response;
    let text;
    try {
      response = await fetch(`${url}/wallet/transaction/batch`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-server-authorization": sign(body, secret),
        },
        signal: AbortSignal.timeout(BATCH_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      // No answer at all: the server is likely gone, so the batches after this one would be too.
      errors++;
      failures.add(
        `batch ${b}: ${error.message}${error.cause ? ` (${error.cause.code ?? error.cause})` : ""}`,
      );
      break;
    }
    if (!response.ok) {
      non2xx++;
      failures.add(`batch ${b}: ${response.status} ${text}`);
      continue;
    }
    batchMs.push(performance.now() - start); // of answered batches only: a failure is no speed
    // The wallet answers per item; the baseline answers how many rows it inserted.
    const answer = JSON.parse(text);
    const failed = Array.isArray(answer.results)
      ? answer.results.filter((r) => r.status !== "OK")
      : [];
    if (failed.length > 0) failures.add(`item ERROR: ${JSON.stringify(failed[0])}`);
    errors += Array.isArray(answer.results) ? failed.length : batchSize - (answer.inserted ?? 0);
    if (typeof answer.d1_ms === "number") d1Ms.push(answer.d1_ms);
  }
  if (batchMs.length === 0) throw new Error(failures.samples.join(" | "));
  const sorted = [...batchMs].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor((sorted.length - 1) / 2)];
  return {
    scenario,
    batches,
    batch_size: batchSize,
    batch_ms: batchMs.map((ms) => Math.round(ms)),
    ...(d1Ms.length > 0 ? { server_d1_ms: d1Ms } : {}),
    median_batch_ms: Math.round(medianMs),
    max_batch_ms: Math.round(sorted[sorted.length - 1]),
    items_per_s: Math.round((batchSize * 1000) / medianMs),
    errors,
    non_2xx: non2xx,
    failures: failures.samples,
    cpu: cpu(),
  };
}

/** Creates the players through the admin API, a few requests at a time. */
export async function createPlayers({ url, adminToken, ids, concurrency = 8 }) {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const response = await fetch(`${url}/admin/players`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({
          player_id: id,
          operator_id: "bench",
          brand_id: "bench",
          currency: "EUR",
          balance: "1000000.00",
        }),
      });
      if (response.status !== 201)
        throw new Error(`creating ${id}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** GET /admin/reconcile (invariant 5). A 404 means the route is not deployed yet: skipped. */
export async function reconcile({ url, adminToken }) {
  const response = await fetch(`${url}/admin/reconcile`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  const text = await response.text();
  if (response.status === 404)
    return { status: "skipped", detail: "GET /admin/reconcile answered 404" };
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (response.ok && answer?.ok === true) return { status: "ok", detail: answer };
  return { status: "failed", detail: answer ?? `${response.status} ${text.slice(0, 300)}` };
}

/** Resident memory (VmRSS, MiB) of the server's workerd processes: what its isolates and objects hold. */
export function workerdRssMiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) continue;
      const line = readFileSync(`/proc/${pid}/status`, "utf8")
        .split("\n")
        .find((l) => l.startsWith("VmRSS:"));
      kib += Number(line?.match(/\d+/)?.[0] ?? 0);
    } catch {
      // the process ended
    }
  }
  return kib > 0 ? Math.round((kib / 1024) * 10) / 10 : null;
}
