// The bank: plays a seeded operation sequence against a wallet through any `send`, with resends,
// concurrent copies and armed faults, and checks every answer, every final balance, every
// player's ledger and the wallet's own reconciliation against the model. Used in-process by
// test/bank.test.ts and over HTTP by scripts/chaos.ts.
import { parseSourceText } from "../../scripts/lib/source-text";
import { collectPages, pageBudget } from "../pages";
import { generate, prng, type PlannedOp } from "./generate";
import {
  authenticateLine,
  CURRENCY,
  deltaMinor,
  execute,
  executeRace,
  Ledger,
  money,
  RACE_PARTS,
  raceOrders,
  type CancelItem,
  type Expected,
  type Op,
  type RaceOp,
  type RacePart,
  type RacePlay,
  type TransferItem,
  type TxItem,
} from "./model";

/** An op sent as one request (a race is several, see runRace). */
type SingleOp = Exclude<Op, RaceOp>;

/**
 * One HTTP exchange: /wallet/* signed as ThrillGate signs, /admin/* with the admin token. Status 0:
 * no answer. With `otherBrand`, a wallet call is signed with the key of a brand that is not the
 * bank players' (a brand of WALLET_HMAC_SECRETS; the bank's players are of an unlisted brand).
 */
export type Send = (
  method: string,
  path: string,
  body?: unknown,
  options?: { otherBrand?: boolean },
) => Promise<{ status: number; text: string }>;

export interface BankOptions {
  seed: number;
  operations: number;
  send: Send;
  players?: number;
  faultRate?: number;
  /** ThrillGate's wait before retry n is backoffMs × 2^(n−1). */
  backoffMs?: number;
  /** Ops in flight at once (each one's copies and retries included). */
  maxInFlight?: number;
  /** Unique per run, so runs can share one wallet; defaults to the seed and the clock. */
  runId?: string;
  /**
   * Share of wallet ops first sent signed with another brand's key (`send` must support
   * `otherBrand`): see otherBrandCopies. 0 (the default) sends none.
   */
  otherBrandShare?: number;
  /**
   * Archival between rounds (docs/archive.md): the ops are played in `rounds` consecutive parts, and
   * `before(k)` runs before part k and once more after the last (k = rounds), where the test moves
   * time forward and runs the archive job. The final ledger check then reads the ledger export,
   * which crosses the archive's boundary, instead of the live ledger pages.
   */
  archival?: { rounds: number; before: (round: number) => Promise<void> };
}

export interface BankReport {
  seed: number;
  operations: number;
  /** Wallet requests sent, every copy and retry counted. */
  requests: number;
  faultsArmed: number;
  /** Ops whose repeat would change the wallet (see runOp): sent once, without faults. */
  sentOnce: number;
  /** Requests signed with another brand's key (otherBrandCopies): each must change nothing. */
  otherBrandRequests: number;
  /**
   * How often the model expected each outcome, by op kind ("transfer ok", "transaction
   * PLAYER_SUSPENDED", batch items as "batch item …"): what the run exercised.
   */
  outcomes: Record<string, number>;
  disagreements: number;
  doubleApplies: number;
  negativeBalances: number;
  reconciliationProblems: number;
  /** The first few disagreements, readable. */
  problems: string[];
  /** With archival: cancels by batch_id alone of an earlier round's batch, archived by then. */
  archivedBatchCancels: number;
  durationMs: number;
}

// ThrillGate retries a call up to 3 times on 5xx or no answer. Past that, the bank resends a few
// more times (as a later ThrillGate retry or an operator would) until the outcome is known.
const THRILLGATE_ATTEMPTS = 4;
const SETTLE_ATTEMPTS = 6;
const PROBLEMS_KEPT = 20;
// This many requests in a row without any answer (connection refused, timeouts): the wallet is
// gone, and the run stops instead of resending every remaining op for minutes.
const GONE_AFTER_NO_ANSWERS = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The wire: requests as ThrillGate writes them, answers read back into the model's lines.

function wireAmount(item: { amountMinor: number; form: TxItem["form"] }): string | number {
  const text = money(item.amountMinor);
  return item.form === "number" ? Number(text) : item.form === "padded" ? `${text}0` : text;
}

function wireTx(item: TxItem): Record<string, unknown> {
  return {
    player_id: item.playerId,
    transaction_id: item.transactionId,
    transaction_type: item.type,
    provider_id: "thrillpots",
    amount: wireAmount(item),
    ...(item.currency === null ? {} : { currency: item.currency }),
    game_id: "bank", // an extra field, kept by the wallet as metadata
  };
}

function wireTransfer(item: TransferItem): Record<string, unknown> {
  return {
    transfer_id: item.transferId,
    direction: item.direction,
    amount: wireAmount(item),
    ...(item.reason === null ? {} : { reason: item.reason }),
    ticket: "bank", // an unknown field, kept with the entry as the reason is
  };
}

function wireCancel(item: CancelItem, absentIfNull: boolean): Record<string, unknown> {
  return item.playerId === null && absentIfNull
    ? { transaction_id: item.transactionId }
    : { transaction_id: item.transactionId, player_id: item.playerId };
}

function requestOf(op: SingleOp): { method: string; path: string; body?: unknown } {
  switch (op.kind) {
    case "balance":
      return {
        method: "GET",
        path: `/wallet/balance?player_id=${encodeURIComponent(op.playerId)}`,
      };
    case "transaction":
      return { method: "POST", path: "/wallet/transaction", body: wireTx(op.item) };
    case "cancel":
      return { method: "DELETE", path: "/wallet/cancel", body: wireCancel(op.item, false) };
    case "batch": {
      const items = op.items.map(wireTx);
      return {
        method: "POST",
        path: "/wallet/transaction/batch",
        body: op.bare
          ? items
          : { ...(op.batchId ? { batch_id: op.batchId } : {}), transactions: items },
      };
    }
    case "cancelBatch": {
      const items = op.items?.map((item) => wireCancel(item, true));
      const body =
        op.bare && items
          ? items
          : {
              ...(op.batchId ? { batch_id: op.batchId } : {}),
              ...(items ? { transactions: items } : {}),
            };
      return { method: "DELETE", path: "/wallet/transaction/batch", body };
    }
    case "transfer":
      return {
        method: "POST",
        path: `/admin/players/${encodeURIComponent(op.item.playerId)}/transfers`,
        body: wireTransfer(op.item),
      };
    case "status":
      return {
        method: "PATCH",
        path: `/admin/players/${encodeURIComponent(op.playerId)}`,
        body: { status: op.status },
      };
  }
}

/** A leaf of an answer read by parseSourceText, as its value: "OK", true, a transaction id. */
function field(value: unknown, key: string): unknown {
  const leaf =
    typeof value === "object" && value !== null
      ? new Map(Object.entries(value)).get(key)
      : undefined;
  return typeof leaf === "string" ? JSON.parse(leaf) : leaf;
}

/** A leaf as the wallet wrote it: a number as written (12.30), a string with its quotes ("12.30"). */
function shown(value: unknown, key: string): string {
  const leaf =
    typeof value === "object" && value !== null
      ? new Map(Object.entries(value)).get(key)
      : undefined;
  return String(leaf);
}

/** An error body carries its code at the top level; a batch result carries it under "error". */
function errorOf(value: unknown, withStatus: string, code: unknown): string {
  const balance = shown(value, "balance");
  return `${withStatus} ${String(code)}${balance === "undefined" ? "" : ` ${balance}`}`;
}

/** The wallet's answer as the model writes it (see model.ts). */
interface Seen {
  header: string;
  items: { id: string; line: string }[];
}

function observed(op: SingleOp, status: number, text: string): Seen {
  let body: unknown;
  try {
    body = parseSourceText(text);
  } catch {
    return { header: `${status} (not JSON) ${text.slice(0, 120)}`, items: [] };
  }
  if (status !== 200)
    return { header: errorOf(body, String(status), field(body, "code")), items: [] };
  const results = field(body, "results");
  const list = Array.isArray(results) ? results : [];
  const item = (result: unknown, withPlayer: boolean) => {
    const id = String(field(result, "transaction_id"));
    const who = withPlayer ? `${id} ${String(field(result, "player_id"))}` : id;
    const line =
      field(result, "status") === "OK"
        ? `${who} OK ${shown(result, "balance")}`
        : `${who} ${errorOf(result, "ERROR", field(field(result, "error"), "code"))}`;
    return { id, line };
  };
  switch (op.kind) {
    case "balance":
    case "cancel":
      return { header: `200 ${shown(body, "balance")}`, items: [] };
    case "transaction":
      return {
        header: `200 ${String(field(body, "transaction_id"))} ${shown(body, "balance")} ${String(field(body, "currency"))}`,
        items: [],
      };
    case "batch":
    case "cancelBatch":
      return {
        header: `200 batch=${String(field(body, "batch_id") ?? "-")}`,
        items: list.map((result) => item(result, op.kind === "batch")),
      };
    case "transfer": {
      const [id, direction] = [field(body, "transfer_id"), field(body, "direction")];
      const header = `200 ${String(id)} ${String(direction)} ${shown(body, "balance")} ${String(field(body, "currency"))}`;
      return { header, items: [] };
    }
    case "status":
      return {
        header: `200 ${String(field(body, "status"))} ${shown(body, "balance")}`,
        items: [],
      };
  }
}

// A balance below zero anywhere in an answer: "-1.00" or "\"-1.00\"".
const NEGATIVE = /(^|\s)"?-[0-9]/;

// ---------------------------------------------------------------------------------------------

/** What one run shares between its steps. */
interface BankRun {
  seed: number;
  send: Send;
  backoffMs: number;
  report: BankReport;
  /** The model, played in generation order (see scheduleOps). */
  ledger: Ledger;
  /** Requests in a row without any answer, and whether the wallet is taken to be gone for good. */
  noAnswers: number;
  gone: boolean;
  /** The ops (by index) first sent signed with another brand's key. */
  otherBrandOps: Set<number>;
}

export async function runBank(options: BankOptions): Promise<BankReport> {
  const startedMs = Date.now();
  const { seed, operations, send, faultRate = 0.1, backoffMs = 5, maxInFlight = 16 } = options;
  const runId = options.runId ?? `bank${seed}-${Date.now().toString(36)}`;
  const plan = generate({
    seed,
    operations,
    runId,
    faultRate,
    ...(options.players ? { players: options.players } : {}),
  });
  // The model starts where the wallet does.
  const base = new Ledger();
  for (const { playerId, openingMinor } of plan.players) base.setBalance(playerId, openingMinor);
  const run: BankRun = {
    seed,
    send,
    backoffMs,
    report: emptyReport(seed, operations),
    ledger: base.fork(),
    noAnswers: 0,
    gone: false,
    otherBrandOps: pickOtherBrandOps(seed, plan.ops, options.otherBrandShare ?? 0),
  };

  await createPlayers(run, plan.players);
  const { archival } = options;
  if (archival) {
    const size = Math.ceil(plan.ops.length / archival.rounds);
    // Every op is played, a cancel by batch_id alone of an earlier (archived) round's batch too:
    // those are counted, so that a test can tell the run crossed the boundary with them.
    const earlierBatches = new Set<string>();
    for (let round = 0; round < archival.rounds; round++) {
      await archival.before(round);
      const ops = plan.ops.slice(round * size, (round + 1) * size);
      run.report.archivedBatchCancels += ops.filter(
        ({ op }) =>
          op.kind === "cancelBatch" &&
          op.items === null &&
          op.batchId !== null &&
          earlierBatches.has(op.batchId),
      ).length;
      await scheduleOps(run, ops, maxInFlight);
      for (const { op } of ops)
        if (op.kind === "batch" && op.batchId) earlierBatches.add(op.batchId);
    }
    await archival.before(archival.rounds);
  } else await scheduleOps(run, plan.ops, maxInFlight);
  await checkFinalState(
    run,
    plan.players.map((p) => p.playerId),
    archival ? await exportedEntries(run) : undefined,
  );
  run.report.durationMs = Date.now() - startedMs;
  return run.report;
}

function emptyReport(seed: number, operations: number): BankReport {
  return {
    seed,
    operations,
    requests: 0,
    faultsArmed: 0,
    sentOnce: 0,
    otherBrandRequests: 0,
    outcomes: {},
    disagreements: 0,
    doubleApplies: 0,
    negativeBalances: 0,
    reconciliationProblems: 0,
    problems: [],
    archivedBatchCancels: 0,
    durationMs: 0,
  };
}

function disagree(run: BankRun, what: string): void {
  run.report.disagreements += 1;
  if (run.report.problems.length < PROBLEMS_KEPT)
    run.report.problems.push(`seed ${run.seed}: ${what}`);
}

/** An operator call; resent on 5xx or no answer, since arming a fault or reading is safe to repeat. */
async function adminCall(
  run: BankRun,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    if (run.gone) throw new Error("the wallet stopped answering");
    const answer = await run.send(method, path, body);
    if (answer.status >= 200 && answer.status <= 299) return parseSourceText(answer.text);
    // A player created by an attempt whose answer was lost (the transport may resend too)
    // exists already; were it someone else's, the final balance check would say so.
    if (answer.status === 409 && path === "/admin/players") return undefined;
    if (
      (answer.status > 0 && answer.status < 500) ||
      attempt >= THRILLGATE_ATTEMPTS + SETTLE_ATTEMPTS
    ) {
      throw new Error(`${method} ${path} answered ${answer.status} ${answer.text}`);
    }
    await sleep(run.backoffMs * 2 ** Math.min(attempt - 1, 5));
  }
}

async function createPlayers(
  run: BankRun,
  players: { playerId: string; openingMinor: number }[],
): Promise<void> {
  await inParallel(players, 10, ({ playerId, openingMinor }) =>
    adminCall(run, "POST", "/admin/players", {
      player_id: playerId,
      operator_id: "thrilltech",
      brand_id: "bank",
      currency: CURRENCY,
      balance: money(openingMinor),
    }),
  );
}

/** One copy of a request, resent as ThrillGate resends it; the last answer, and whether any attempt failed. */
async function sendResending(
  run: BankRun,
  request: ReturnType<typeof requestOf>,
  options: { otherBrand?: boolean } = {},
): Promise<{ status: number; text: string; failed: boolean }> {
  let failed = false;
  for (let attempt = 1; ; attempt++) {
    if (run.gone)
      throw new Error(
        `the wallet stopped answering (${GONE_AFTER_NO_ANSWERS} requests in a row without an answer)`,
      );
    run.report.requests += 1;
    const answer = await run
      .send(request.method, request.path, request.body, options)
      .catch((error: unknown) => ({ status: 0, text: String(error) }));
    run.noAnswers = answer.status === 0 ? run.noAnswers + 1 : 0;
    run.gone ||= run.noAnswers >= GONE_AFTER_NO_ANSWERS; // for good: the rest of this run stops too
    if (answer.status > 0 && answer.status < 500) return { ...answer, failed };
    failed = true;
    if (attempt >= THRILLGATE_ATTEMPTS + SETTLE_ATTEMPTS) return { ...answer, failed };
    await sleep(run.backoffMs * 2 ** Math.min(attempt - 1, 5));
  }
}

// Ops start in generation order, each once every earlier op sharing a key (player, id, batch)
// has finished: different operations of one player never overlap, so the model played in
// generation order is exact, while other players' ops run alongside. Only copies of one
// request race each other, as ThrillGate's retries do.
async function scheduleOps(run: BankRun, ops: PlannedOp[], maxInFlight: number): Promise<void> {
  const tails = new Map<string, Promise<unknown>>();
  const gate = limiter(maxInFlight);
  const running = ops.map((planned) => {
    const before = planned.keys.flatMap((key) => tails.get(key) ?? []);
    const done = Promise.all(before).then(() => gate(() => runOp(run, planned)));
    const finished = done.catch(() => undefined);
    for (const key of planned.keys) tails.set(key, finished);
    return done;
  });
  await Promise.all(running);
}

async function runOp(run: BankRun, planned: PlannedOp): Promise<void> {
  const { op, index } = planned;
  if (op.kind === "race") return runRace(run, op, index);
  const { report } = run;
  // Play the op twice on the model: what its first execution answers, and what a repeat
  // answers (a resend, or a copy that lost the race). A repeat of a single call answers the
  // same. A batch's repeat may answer other balances in its refusals and cancels, but changes
  // nothing, except when an item refused first would pass on the repeat (a debit refused,
  // then a credit of the same player later in the batch). The wallet decides refused items
  // again on every call, so such a batch is sent once and without faults; see the report.
  const first = run.ledger.fork();
  const once = execute(first, op);
  const again = first.fork();
  const twice = execute(again, op);
  const stable = !again.differsFromParent();
  first.commit();
  if (!stable) report.sentOnce += 1;
  countOutcomes(report, op, once);
  const copies = stable ? planned.copies : 1;
  const fault = stable ? planned.fault : null;

  if (run.otherBrandOps.has(index)) await otherBrandCopies(run, op, index, once);
  if (fault) {
    report.faultsArmed += 1;
    await adminCall(run, "POST", "/admin/faults", { player_id: fault.playerId, ...fault.plan });
  }
  const request = requestOf(op);
  const answers: { status: number; text: string; failed: boolean }[] = [];
  if (planned.concurrent) {
    answers.push(
      ...(await Promise.all(Array.from({ length: copies }, () => sendResending(run, request)))),
    );
  } else {
    for (let copy = 0; copy < copies; copy++) answers.push(await sendResending(run, request));
  }
  // A plan not used up would hit this player's next op, which the model does not expect.
  if (fault) await adminCall(run, "POST", "/admin/faults", { player_id: fault.playerId });

  const label = `op #${index} ${op.kind}${fault ? ` (faults ${JSON.stringify(fault.plan)} at ${fault.playerId})` : ""}`;
  const seen = answers.map((answer) => observed(op, answer.status, answer.text));
  for (const line of seen.flatMap((s) => [s.header, ...s.items.map((item) => item.line)]))
    if (NEGATIVE.test(line)) report.negativeBalances += 1;
  const faulted = fault !== null || answers.some((answer) => answer.failed);
  for (const problem of compare(once, twice, seen, faulted))
    disagree(run, `${label}: ${problem}; request ${JSON.stringify(request.body ?? request.path)}`);
}

// ---------------------------------------------------------------------------------------------
// Races (issue 25, part 3): a status change sent at the same time as the player's own calls.

/** Authenticates sent at the same time as the race's status change, Debit and Credit. */
const RACING_AUTHENTICATES = 2;
/** How long a race's status change waits before it is sent, by op index. */
const RACE_STATUS_HOLD_MS = [0, 2, 0, 5, 10];

/** An authenticate's answer as the model writes it (authenticateLine): "200 12.30" or an error. */
function authenticateSeen(answer: { status: number; text: string }): string {
  let body: unknown;
  try {
    body = parseSourceText(answer.text);
  } catch {
    return `${answer.status} (not JSON) ${answer.text.slice(0, 120)}`;
  }
  return answer.status === 200
    ? `200 ${shown(body, "balance")}`
    : errorOf(body, String(answer.status), field(body, "code"));
}

/**
 * Sends a race's status change, Debit, Credit and RACING_AUTHENTICATES authenticates at once, one
 * more authenticate as soon as the status change is answered, and a last one once all are
 * answered; then holds the answers to one order of the object's:
 * - the status change, the Debit and the Credit answer as the model does in one of the orders
 *   the object may give them (a Debit ordered after a suspend is refused 403, a Credit is always
 *   paid, every balance is that order's);
 * - each racing authenticate answers as D1 stood at some point of that order: a session and
 *   that point's balance while active, 403 PLAYER_SUSPENDED while not. A session handed out
 *   after a suspend committed would show a balance of no active point, or answer in a race
 *   whose order has none;
 * - an authenticate started after the status change was answered sees a point after it: after
 *   a suspend, 403; after an activation, a session.
 * The model then goes on from that order.
 */
async function runRace(run: BankRun, op: RaceOp, index: number): Promise<void> {
  const { report } = run;
  const label = `op #${index} race (${op.status} ${op.playerId})`;
  const issued = await adminCall(
    run,
    "POST",
    `/admin/players/${encodeURIComponent(op.playerId)}/sessions`,
    {},
  );
  const authenticateBody = {
    operator_id: "thrilltech",
    brand_id: "bank",
    player_token: String(field(issued, "player_token")),
    source_id: "bank",
    currency: CURRENCY,
  };
  const authenticate = () =>
    sendResending(run, { method: "POST", path: "/wallet/authenticate", body: authenticateBody });
  const statusOp: SingleOp = { kind: "status", playerId: op.playerId, status: op.status };
  const debitOp: SingleOp = { kind: "transaction", item: op.debit };
  const creditOp: SingleOp = { kind: "transaction", item: op.credit };

  // All at once, each race starting another of the three first, so that the object's order varies.
  const parts: Record<RacePart, SingleOp> = { status: statusOp, debit: debitOp, credit: creditOp };
  const sent = new Map<RacePart, ReturnType<typeof sendResending>>();
  const start = index % RACE_PARTS.length;
  // The status change reaches the object sooner than a signed wallet call, so it is also held
  // back a little in some races.
  const holdMs = RACE_STATUS_HOLD_MS[index % RACE_STATUS_HOLD_MS.length] ?? 0;
  for (const part of [...RACE_PARTS.slice(start), ...RACE_PARTS.slice(0, start)]) {
    const request = requestOf(parts[part]);
    const held = part === "status" && holdMs > 0;
    sent.set(
      part,
      held ? sleep(holdMs).then(() => sendResending(run, request)) : sendResending(run, request),
    );
  }
  const answerOf = (part: RacePart) => sent.get(part) ?? Promise.reject(new Error(part));
  const [status, debit, credit, afterStatus, ...racing] = await Promise.all([
    answerOf("status"),
    answerOf("debit"),
    answerOf("credit"),
    answerOf("status").then(authenticate),
    ...Array.from({ length: RACING_AUTHENTICATES }, authenticate),
  ]);
  const last = await authenticate();

  const seen = {
    status: observed(statusOp, status.status, status.text).header,
    debit: observed(debitOp, debit.status, debit.text).header,
    credit: observed(creditOp, credit.status, credit.text).header,
  };
  const racingSeen = racing.map(authenticateSeen);
  const [afterSeen, lastSeen] = [authenticateSeen(afterStatus), authenticateSeen(last)];
  // Counted per kind of race: "race suspend authenticate ok" is a session ordered before a suspend.
  const kind = op.status === "suspended" ? "suspend" : "activation";
  const count = (key: string, line: string) => {
    const name = `race ${kind} ${key} ${key === "order" ? line : outcomeOf(line)}`;
    report.outcomes[name] = (report.outcomes[name] ?? 0) + 1;
  };
  for (const [part, line] of Object.entries(seen)) count(part, line);
  for (const line of racingSeen) count("authenticate", line);
  count("authenticate-after-status", afterSeen);
  for (const line of [...Object.values(seen), ...racingSeen, afterSeen, lastSeen])
    if (NEGATIVE.test(line)) report.negativeBalances += 1;

  const plays = raceOrders().map((order) => {
    const ledger = run.ledger.fork();
    return { ledger, play: executeRace(ledger, op, order) };
  });
  const byObject = plays.filter(({ play }) =>
    (["status", "debit", "credit"] as const).every((part) => play.answers[part] === seen[part]),
  );
  const at = (play: RacePlay, from: number) => play.points.slice(from).map(authenticateLine);
  const afterStatusIn = (play: RacePlay) => play.order.indexOf("status") + 1;
  const lastPoint = (play: RacePlay) => at(play, play.points.length - 1)[0];
  const fits = ({ play }: { play: RacePlay }) =>
    racingSeen.every((line) => at(play, 0).includes(line)) &&
    at(play, afterStatusIn(play)).includes(afterSeen) &&
    lastPoint(play) === lastSeen;
  const chosen = byObject.find(fits);
  (chosen ?? byObject[0] ?? plays[0])?.ledger.commit();
  if (chosen) {
    // Which order the object gave (several may fit the answers alike: the first is counted).
    count("order", chosen.play.order.join(","));
    return;
  }

  const answered = `status "${seen.status}", debit "${seen.debit}", credit "${seen.credit}"`;
  if (!credit.failed && seen.credit.startsWith("4"))
    disagree(run, `${label}: the win was refused: credit "${seen.credit}"`);
  if (byObject.length === 0) {
    const model = plays
      .map(
        ({ play }) =>
          `${play.order.join(",")}: ${play.order.map((p) => play.answers[p]).join(" / ")}`,
      )
      .join("; ");
    disagree(run, `${label}: answered ${answered}; no order of the object gives these (${model})`);
    return;
  }
  for (const { play } of byObject) {
    const order = `in the object's order ${play.order.join(",")} (answered ${answered}), D1 stood at [${at(play, 0).join(" / ")}]`;
    const stray = racingSeen.filter((line) => !at(play, 0).includes(line));
    if (stray.length > 0)
      disagree(run, `${label}: racing authenticates answered ${stray.join(", ")}; ${order}`);
    if (!at(play, afterStatusIn(play)).includes(afterSeen))
      disagree(
        run,
        `${label}: an authenticate started after the status change was answered got "${afterSeen}"; ${order}`,
      );
    if (lastPoint(play) !== lastSeen)
      disagree(
        run,
        `${label}: the authenticate after the race got "${lastSeen}", not "${lastPoint(play)}"`,
      );
  }
}

/** The wallet ops of the plan sent first with another brand's key: a seeded share, its own draws. */
function pickOtherBrandOps(seed: number, ops: PlannedOp[], share: number): Set<number> {
  const draw = prng(seed ^ 0x0b5a4d);
  // Operator calls, and races (a status change with the player's calls at once), are not copied.
  const admin = new Set(["transfer", "status", "race"]);
  return new Set(
    ops.flatMap((planned) =>
      share > 0 && !admin.has(planned.op.kind) && draw() < share ? [planned.index] : [],
    ),
  );
}

/**
 * What a wallet op signed with another brand's key answers (api.md, "Brands kept apart"): a player
 * of the bank is unknown to that key, and an id of the bank's is answered as an unknown id. The
 * whole-batch 409 of one id twice with other content comes before the players are looked at.
 */
function otherBrandExpected(op: SingleOp, once: Expected): Seen {
  const notFound = { header: "404 PLAYER_NOT_FOUND", items: [] };
  switch (op.kind) {
    case "balance":
    case "transaction":
      return notFound;
    case "cancel":
      return op.item.playerId === null ? { header: '200 "0"', items: [] } : notFound;
    case "batch":
      return once.header.startsWith("409") ? { header: once.header, items: [] } : notFound;
    case "cancelBatch": {
      const header = `200 batch=${op.batchId ?? "-"}`;
      if (!op.items) return { header, items: [] }; // by batch_id: none of the bank's ids
      if (op.items.some((item) => item.playerId !== null)) return notFound;
      return {
        header,
        items: op.items.map((item) => ({
          id: item.transactionId,
          line: `${item.transactionId} OK "0"`,
        })),
      };
    }
    case "transfer":
    case "status":
      throw new Error(`${op.kind} is an operator call: no brand signs it`);
  }
}

/**
 * Before an op, sends it once signed with another brand's key, and then (for a transaction or a
 * batch) a cancel without a player of each of its ids with that key too. Each must answer as
 * api.md says and change nothing: the model does not play them, so the op itself and every later
 * one must still answer as the model says. The cancels leave the other brand's tombstones on ids
 * the bank's originals are yet to use, which must not block them.
 */
async function otherBrandCopies(
  run: BankRun,
  op: SingleOp,
  index: number,
  once: Expected,
): Promise<void> {
  const sends: { request: ReturnType<typeof requestOf>; want: Seen; as: SingleOp }[] = [
    { request: requestOf(op), want: otherBrandExpected(op, once), as: op },
  ];
  const ids =
    op.kind === "transaction"
      ? [op.item.transactionId]
      : op.kind === "batch"
        ? op.items.map((item) => item.transactionId)
        : [];
  for (const transactionId of new Set(ids)) {
    const cancel: SingleOp = { kind: "cancel", item: { transactionId, playerId: null } };
    sends.push({ request: requestOf(cancel), want: { header: '200 "0"', items: [] }, as: cancel });
  }
  for (const { request, want, as } of sends) {
    run.report.otherBrandRequests += 1;
    const answer = await sendResending(run, request, { otherBrand: true });
    const got = observed(as, answer.status, answer.text);
    const lines = (seen: Seen) => [seen.header, ...seen.items.map((item) => item.line)].join(" | ");
    if (lines(got) !== lines(want))
      disagree(
        run,
        `op #${index} ${op.kind} signed with another brand's key: answered "${lines(got)}", expected "${lines(want)}"; request ${JSON.stringify(request.body ?? request.path)}`,
      );
  }
}

/** The outcome of an answer line: "ok", or the error code. */
const outcomeOf = (line: string) => /\b(?:[0-9]{3}|ERROR) ([A-Z_]{3,})/.exec(line)?.[1] ?? "ok";

/** The outcome of each line the model expects: "ok", or the error code. */
function countOutcomes(report: BankReport, op: Op, expected: Expected): void {
  const keys = [
    `${op.kind} ${outcomeOf(expected.header)}`,
    ...expected.items.map((line) => `${op.kind} item ${outcomeOf(line)}`),
  ];
  for (const key of keys) report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
}

/** Per id: its applying and reversing entries, and the type and amount its applying entry shows. */
type EntryCounts = Map<string, { apply: number; reverse: number; applied: string }>;

/** An applying entry as the checks compare it; a transfer's with the fields it keeps (reason, ticket). */
function appliedEntry(type: string, amount: string, kept: { reason: unknown; ticket: unknown }) {
  const transfer = type === "TransferIn" || type === "TransferOut";
  return transfer
    ? `${type} ${amount} reason=${JSON.stringify(kept.reason ?? null)} ticket=${String(kept.ticket)}`
    : `${type} ${amount}`;
}

/** Every balance (through the player's object and in D1), every player's ledger, and reconciliation. */
async function checkFinalState(
  run: BankRun,
  playerIds: string[],
  exported?: Map<string, EntryCounts>,
): Promise<void> {
  const expectedEntries = expectedEntriesByPlayer(run.ledger);
  await inParallel(playerIds, 8, async (playerId) => {
    await checkBalance(run, playerId);
    const expected = expectedEntries.get(playerId) ?? new Map();
    const expectedCount = [...expected.values()].reduce((n, e) => n + e.apply + e.reverse, 0);
    checkLedger(
      run,
      playerId,
      exported
        ? (exported.get(playerId) ?? new Map())
        : await ledgerEntries(run, playerId, expectedCount),
      expected,
    );
  });
  await checkReconciliation(run);
}

/** The model's ledger entries per player: one applying entry per applied id, one reversing if cancelled. */
function expectedEntriesByPlayer(ledger: Ledger): Map<string, EntryCounts> {
  const expectedEntries = new Map<string, EntryCounts>();
  for (const [transactionId, record] of ledger.ids()) {
    const { playerId, content, status } = record;
    if (playerId === null || content === null || status === "tombstone" || status === "refused")
      continue;
    const entries: EntryCounts = expectedEntries.get(playerId) ?? new Map();
    entries.set(transactionId, {
      apply: 1,
      reverse: status === "cancelled" ? 1 : 0,
      applied: appliedEntry(content.type, money(deltaMinor(content.type, content.amountMinor)), {
        reason: record.reason,
        ticket: "bank",
      }),
    });
    expectedEntries.set(playerId, entries);
  }
  return expectedEntries;
}

/** The balance through the player's object and in D1, and the status GET /admin/players shows. */
async function checkBalance(run: BankRun, playerId: string): Promise<void> {
  const want = money(run.ledger.balance(playerId));
  const answer = await run.send("GET", `/wallet/balance?player_id=${encodeURIComponent(playerId)}`);
  const got = observed({ kind: "balance", playerId }, answer.status, answer.text).header;
  if (got !== `200 ${want}`)
    disagree(run, `final balance of ${playerId}: expected ${want}, the wallet answers ${got}`);
  const player = await adminCall(run, "GET", `/admin/players/${encodeURIComponent(playerId)}`);
  const stored = shown(player, "balance");
  if (stored !== want)
    disagree(run, `final balance of ${playerId} in D1: expected ${want}, got ${stored}`);
  const status = String(field(player, "status"));
  if (status !== run.ledger.status(playerId))
    disagree(
      run,
      `final status of ${playerId}: expected ${run.ledger.status(playerId)}, got ${status}`,
    );
  if (stored.startsWith("-") || got.includes(" -")) run.report.negativeBalances += 1;
}

/** Adds one ledger entry, as the admin API writes it, to its id's counts. */
function countEntry(entries: EntryCounts, entry: unknown): void {
  const id = String(field(entry, "transaction_id"));
  const counts = entries.get(id) ?? { apply: 0, reverse: 0, applied: "-" };
  if (field(entry, "effect") === "apply") {
    counts.apply += 1;
    const metadata = field(entry, "metadata");
    counts.applied = appliedEntry(String(field(entry, "type")), shown(entry, "amount"), {
      reason: field(metadata, "reason"),
      ticket: field(metadata, "ticket"),
    });
  } else counts.reverse += 1;
  entries.set(id, counts);
}

/**
 * Every player's ledger as the ledger export writes it (archived days from R2, the others from D1),
 * counted per transaction id: the ledger check across the archive's boundary.
 */
async function exportedEntries(run: BankRun): Promise<Map<string, EntryCounts>> {
  const answer = await run.send(
    "GET",
    "/admin/ledger/export?from=1970-01-01T00:00:00Z&to=2200-01-01T00:00:00Z",
  );
  if (answer.status !== 200) throw new Error(`the export answered ${answer.status}`);
  const byPlayer = new Map<string, EntryCounts>();
  for (const line of answer.text.split("\n").filter(Boolean)) {
    const entry = parseSourceText(line);
    const playerId = String(field(entry, "player_id"));
    const entries = byPlayer.get(playerId) ?? new Map();
    countEntry(entries, entry);
    byPlayer.set(playerId, entries);
  }
  return byPlayer;
}

/** Entries per page of the admin API's ledger, as the bank reads it. */
const LEDGER_PAGE_ENTRIES = 500;

/**
 * The player's ledger as the admin API pages it, counted per transaction id. Its page budget
 * leaves room for twice the entries the model expects (checkLedger names any extra one); a pager
 * that repeats a page fails over it instead of looping on.
 */
async function ledgerEntries(
  run: BankRun,
  playerId: string,
  expectedEntries: number,
): Promise<EntryCounts> {
  const list = await collectPages<unknown, unknown>(
    async (before) => {
      const page = await adminCall(
        run,
        "GET",
        `/admin/players/${encodeURIComponent(playerId)}/ledger?limit=${LEDGER_PAGE_ENTRIES}${before === undefined ? "" : `&before=${String(before)}`}`,
      );
      const items = field(page, "entries");
      return { items: Array.isArray(items) ? items : [], next: field(page, "next_before") };
    },
    pageBudget(2 * expectedEntries, LEDGER_PAGE_ENTRIES),
  );
  const entries: EntryCounts = new Map();
  for (const entry of list) {
    countEntry(entries, entry);
  }
  return entries;
}

function checkLedger(
  run: BankRun,
  playerId: string,
  entries: EntryCounts,
  expected: EntryCounts,
): void {
  for (const [id, counts] of entries) {
    if (counts.apply > 1 || counts.reverse > 1) run.report.doubleApplies += 1;
    const want = expected.get(id) ?? { apply: 0, reverse: 0, applied: "-" };
    if (counts.apply !== want.apply || counts.reverse !== want.reverse) {
      disagree(
        run,
        `ledger of ${playerId}: ${id} has ${counts.apply} applying and ${counts.reverse} reversing entries, the model ${want.apply} and ${want.reverse}`,
      );
    } else if (counts.applied !== want.applied) {
      disagree(
        run,
        `ledger of ${playerId}: ${id} applied as ${counts.applied}, the model ${want.applied}`,
      );
    }
  }
  for (const [id, want] of expected)
    if (!entries.has(id))
      disagree(
        run,
        `ledger of ${playerId}: ${id} has no entries, the model ${want.apply} applying and ${want.reverse} reversing`,
      );
}

async function checkReconciliation(run: BankRun): Promise<void> {
  const { report } = run;
  const reconciliation = await adminCall(run, "GET", "/admin/reconcile");
  const mismatches = field(reconciliation, "balance_mismatches");
  const problems = field(reconciliation, "transaction_problems");
  const count =
    (Array.isArray(mismatches) ? mismatches.length : 0) +
    (Array.isArray(problems) ? problems.length : 0);
  report.reconciliationProblems = field(reconciliation, "ok") === true ? count : Math.max(count, 1);
  if (report.reconciliationProblems > 0 && report.problems.length < PROBLEMS_KEPT) {
    report.problems.push(`seed ${run.seed}: reconciliation ${JSON.stringify(reconciliation)}`);
  }
}

/**
 * Each copy's answer against the model's first execution (`once`) and its repeat (`twice`),
 * part by part (a batch's items of one player; see Expected.parts).
 *
 * Without faults, at each part exactly one copy answers as the first execution and the others
 * as repeats. With faults (a write failed, an answer lost after its write committed, a batch
 * answered 5xx after some players' items committed), the first execution may never be seen,
 * and after a lost answer the wallet decides the group's items again one by one, so a part
 * may mix them: each item must then answer as the first execution or as a repeat. Either way an
 * applied item answers its one balance-after, and the final balances and ledgers are exact.
 */
function compare(once: Expected, twice: Expected, seen: Seen[], faulted: boolean): string[] {
  const problems: string[] = [];
  seen.forEach((copy, k) => {
    if (copy.header !== once.header && copy.header !== twice.header)
      problems.push(`copy ${k + 1} answered "${copy.header}", the model "${once.header}"`);
    else if (copy.items.length !== once.items.length)
      problems.push(
        `copy ${k + 1} answered ${copy.items.length} items, the model ${once.items.length}`,
      );
  });
  if (problems.length > 0) return problems;
  const partOf = new Map(once.ids.map((id, i) => [id, once.parts[i] ?? "?"]));
  const expected = (lines: string[], part: string) =>
    lines.filter((_, i) => once.parts[i] === part);
  const answered = (copy: Seen, part: string) =>
    copy.items.filter((item) => (partOf.get(item.id) ?? "?") === part).map((item) => item.line);
  for (const part of new Set([
    ...once.parts,
    ...seen.flatMap((copy) => copy.items.map((item) => partOf.get(item.id) ?? "?")),
  ])) {
    const first = expected(once.items, part);
    const repeat = expected(twice.items, part);
    const copies = seen.map((copy) => answered(copy, part));
    const [firstText, repeatText] = [first.join(" | "), repeat.join(" | ")];
    const model = `the model [${firstText}]${repeatText === firstText ? "" : ` or on a repeat [${repeatText}]`}`;
    copies.forEach((got, k) => {
      const valid = faulted
        ? got.length === first.length &&
          got.every((line, j) => line === first[j] || line === repeat[j])
        : got.join(" | ") === firstText || got.join(" | ") === repeatText;
      if (!valid)
        problems.push(`copy ${k + 1} at ${part}: answered [${got.join(" | ")}], ${model}`);
    });
    const firsts = copies.filter((got) => got.join(" | ") === firstText).length;
    if (!faulted && firstText !== repeatText && firsts !== 1) {
      problems.push(`at ${part}, ${firsts} copies answered as a first execution; ${model}`);
    }
  }
  return problems;
}

/** Runs `task` over `items`, at most `width` at a time. */
async function inParallel<T>(
  items: T[],
  width: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await task(item);
      }
    }),
  );
}

/** At most `width` tasks at once; the others wait in arrival order. */
function limiter(width: number): <R>(task: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= width) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
