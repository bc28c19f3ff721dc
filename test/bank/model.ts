// The bank's model of the wallet: the Standard Wallet API's rules (docs/api.md and
// the conventions of test/cancel.test.ts, test/batch.test.ts) written again, in the plainest way,
// over integer minor units. It must stay independent of src/wallet/decide.ts: a model that
// imported the wallet's own decisions would agree with any bug in them.
//
// An answer is a canonical line of text ("200 tx1 12.30 EUR", "402 INSUFFICIENT_FUNDS 5.00",
// "200 \"12.30\"" for the cancel's string balance), so a difference is visible in a test report.

// The operator's side (issue 13) is modelled from the issue's words the same way: transfers in and
// out share the one id space with ThrillGate's transactions, and a player's status (suspended,
// closed) refuses Debits and, when closed, transfers in. A status change raced against the
// player's calls (issue 25) is played in every order the player's object may give it (RaceOp).

// The model assumes wrangler.toml's ACCEPT_ZERO_VALUE_CREDITS = "true" (a Credit of 0 is applied).
export const CURRENCY = "EUR"; // every bank player's currency: 2 decimals
export const FOREIGN_CURRENCY = "USD";

export type TxType = "Debit" | "Credit" | "None";
export type TransferDirection = "in" | "out";
/** What an id was recorded as: a ThrillGate transaction type or an operator transfer. */
export type EntryType = TxType | "TransferIn" | "TransferOut";
export type PlayerStatus = "active" | "suspended" | "closed";
export type AmountForm = "string" | "number" | "padded";

/** One Debit, Credit or None as sent (alone or as a batch item). */
export interface TxItem {
  playerId: string;
  transactionId: string;
  type: TxType;
  amountMinor: number;
  /** How the amount is written on the wire: "12.30", 12.3 or "12.300" (all the same amount). */
  form: AmountForm;
  /** null: the field is left out, and the wallet takes the player's currency. */
  currency: string | null;
}

/** One operator transfer (POST /admin/players/{id}/transfers) as sent. */
export interface TransferItem {
  playerId: string;
  transferId: string;
  direction: TransferDirection;
  amountMinor: number;
  form: AmountForm;
  /** Kept with the ledger entry, not part of the content a repeat is compared by; null: left out. */
  reason: string | null;
}

export interface CancelItem {
  transactionId: string;
  /** null: sent as null (or left out), and the wallet finds the owner itself. */
  playerId: string | null;
}

export type Op =
  | { kind: "transaction"; item: TxItem }
  | { kind: "cancel"; item: CancelItem }
  | { kind: "batch"; batchId: string | null; bare: boolean; items: TxItem[] }
  /** items null: only the batch_id is sent, and every id recorded with that batch is cancelled. */
  | { kind: "cancelBatch"; batchId: string | null; bare: boolean; items: CancelItem[] | null }
  | { kind: "balance"; playerId: string }
  | { kind: "transfer"; item: TransferItem }
  /** PATCH /admin/players/{id} with this status. */
  | { kind: "status"; playerId: string; status: PlayerStatus }
  /**
   * A status change raced against the player's own calls, all sent at once: the PATCH, a Debit,
   * a Credit and authenticates (see RaceOp).
   */
  | RaceOp;

/**
 * A suspend of an active player, or an activation of a suspended one, sent at the same time as
 * a Debit, a Credit and authenticates of that player. The player's object serialises the status
 * change, the Debit and the Credit in an order of its own; an authenticate is decided by D1
 * between two of the object's writes. Any order is legal, so the bank finds the one the answers
 * show (raceOrders, executeRace) and holds every answer to it.
 */
export interface RaceOp {
  kind: "race";
  playerId: string;
  status: "active" | "suspended";
  debit: TxItem;
  credit: TxItem;
}

/** The parts of a race the player's object orders. */
export type RacePart = "status" | "debit" | "credit";
export const RACE_PARTS: readonly RacePart[] = ["status", "debit", "credit"];

/** Every order the player's object may give a race's parts. */
export function raceOrders(): RacePart[][] {
  const orders: RacePart[][] = [];
  const grow = (prefix: RacePart[]) => {
    if (prefix.length === RACE_PARTS.length) orders.push(prefix);
    for (const part of RACE_PARTS) if (!prefix.includes(part)) grow([...prefix, part]);
  };
  grow([]);
  return orders;
}

/** What the player's D1 row shows between the object's writes, as authenticate sees it. */
export interface PlayerPoint {
  status: PlayerStatus;
  balanceMinor: number;
}

/** A race played in one order: each part's answer, and the player before and after each part. */
export interface RacePlay {
  order: RacePart[];
  answers: Record<RacePart, string>;
  /** points[0] before the first part, points[i] after the i-th. */
  points: PlayerPoint[];
}

/** Plays a race's parts on `ledger` (changing it) in `order`. */
export function executeRace(ledger: Ledger, op: RaceOp, order: RacePart[]): RacePlay {
  const point = (): PlayerPoint => ({
    status: ledger.status(op.playerId),
    balanceMinor: ledger.balance(op.playerId),
  });
  const points = [point()];
  const answers: Record<RacePart, string> = { status: "", debit: "", credit: "" };
  for (const part of order) {
    const sub: Op =
      part === "status"
        ? { kind: "status", playerId: op.playerId, status: op.status }
        : { kind: "transaction", item: part === "debit" ? op.debit : op.credit };
    answers[part] = execute(ledger, sub).header;
    points.push(point());
  }
  return { order, answers, points };
}

/**
 * What /wallet/authenticate answers at `point`: a session and the balance while the player is
 * active, 403 PLAYER_SUSPENDED otherwise.
 */
export function authenticateLine(point: PlayerPoint): string {
  return point.status === "active" ? `200 ${money(point.balanceMinor)}` : "403 PLAYER_SUSPENDED";
}

/** What one execution of an op answers: a header line, and one line per item with its "part". */
export interface Expected {
  header: string;
  items: string[];
  /** The transaction id of each item. */
  ids: string[];
  /**
   * The player whose object decides each item. A batch's items of one player are decided in
   * request order, but different players' parts run in parallel, so two concurrent copies of a
   * batch may be ordered differently at each player: answers are compared per part. (A cancel
   * by batch_id lists the batch's ids in the order they were recorded, and only one player's
   * ids keep their order: parts are matched by transaction id, not by position.)
   */
  parts: string[];
}

/** Exact decimal text of minor units in the bank's currency: 1230 → "12.30". */
export function money(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(3, "0");
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** What the wallet knows of a transaction id. Records are replaced, never mutated (see Ledger.fork). */
export interface IdRecord {
  status: "applied" | "cancelled" | "tombstone" | "refused";
  /** null only for a tombstone whose cancel named no player. */
  playerId: string | null;
  content: { type: EntryType; amountMinor: number; currency: string } | null;
  balanceAfterMinor: number | null;
  batchId: string | null;
  /** What a refused id was answered; every later copy of it is answered the same. */
  refusal?: Outcome;
  /** An applied transfer's reason as first sent (null: none), kept with its ledger entry. */
  reason?: string | null;
}

/**
 * Balances and ids. fork() gives a copy-on-write child, so the runner can play an op twice (the
 * first execution, then a repeat) and see whether the repeat would change anything, without
 * copying thousands of ids per op.
 */
export class Ledger {
  readonly #parent: Ledger | undefined;
  readonly #balances = new Map<string, number>();
  readonly #statuses = new Map<string, PlayerStatus>();
  readonly #ids = new Map<string, IdRecord>();
  /** Ids recorded with each batch id (applied items, and tombstones that name a player), in order. */
  readonly #batches = new Map<string, string[]>();

  constructor(parent?: Ledger) {
    this.#parent = parent;
  }

  fork(): Ledger {
    return new Ledger(this);
  }

  balance(playerId: string): number {
    const own = this.#balances.get(playerId);
    if (own !== undefined) return own;
    if (!this.#parent) throw new Error(`the model has no player ${playerId}`);
    return this.#parent.balance(playerId);
  }

  setBalance(playerId: string, minor: number): void {
    this.#balances.set(playerId, minor);
  }

  /** Every player starts active. */
  status(playerId: string): PlayerStatus {
    return this.#statuses.get(playerId) ?? this.#parent?.status(playerId) ?? "active";
  }

  setStatus(playerId: string, status: PlayerStatus): void {
    this.#statuses.set(playerId, status);
  }

  record(transactionId: string): IdRecord | undefined {
    return this.#ids.get(transactionId) ?? this.#parent?.record(transactionId);
  }

  setRecord(transactionId: string, record: IdRecord): void {
    if (!this.record(transactionId) && record.batchId !== null && record.playerId !== null) {
      this.#batches.set(record.batchId, [...this.batchIds(record.batchId), transactionId]);
    }
    this.#ids.set(transactionId, record);
  }

  batchIds(batchId: string): string[] {
    return this.#batches.get(batchId) ?? this.#parent?.batchIds(batchId) ?? [];
  }

  ids(): [string, IdRecord][] {
    const merged = new Map(this.#parent?.ids() ?? []);
    for (const [id, record] of this.#ids) merged.set(id, record);
    return [...merged];
  }

  /** True if this fork holds a balance or id that differs from its parent's. */
  differsFromParent(): boolean {
    const parent = this.#parent;
    if (!parent) return false;
    for (const [playerId, minor] of this.#balances)
      if (parent.balance(playerId) !== minor) return true;
    for (const [playerId, status] of this.#statuses)
      if (parent.status(playerId) !== status) return true;
    for (const [id, record] of this.#ids)
      if (JSON.stringify(parent.record(id)) !== JSON.stringify(record)) return true;
    return false;
  }

  /** Makes this fork's changes its parent's. */
  commit(): void {
    const parent = this.#parent;
    if (!parent) throw new Error("commit of a ledger that is no fork");
    for (const [playerId, minor] of this.#balances) parent.setBalance(playerId, minor);
    for (const [playerId, status] of this.#statuses) parent.setStatus(playerId, status);
    for (const [id, record] of this.#ids) parent.setRecord(id, record);
  }
}

/** One decision: 200 with a balance, 200 of an orphan cancel ("0"), or an error. */
type Outcome =
  | { ok: true; balanceMinor: number | null }
  | { ok: false; status: number; code: string; balanceMinor?: number };

const refused = (status: number, code: string, balanceMinor?: number): Outcome =>
  balanceMinor === undefined
    ? { ok: false, status, code }
    : { ok: false, status, code, balanceMinor };

const SIGN: Record<EntryType, number> = {
  Debit: -1,
  Credit: 1,
  None: 0,
  TransferIn: 1,
  TransferOut: -1,
};

/** POST /wallet/transaction, as the spec states it. */
function decideTransaction(ledger: Ledger, item: TxItem, batchId: string | null): Outcome {
  const currency = item.currency ?? CURRENCY; // a missing currency is the player's
  const content = { type: item.type, amountMinor: item.amountMinor, currency };
  const known = ledger.record(item.transactionId);
  if (known) {
    // An id cancelled before it arrived is never applied.
    if (known.status === "tombstone") return refused(409, "TRANSACTION_CANCELLED");
    const same =
      known.playerId === item.playerId && JSON.stringify(known.content) === JSON.stringify(content);
    if (!same) return refused(409, "DUPLICATE_TRANSACTION");
    // A repeat answers what the first call answered: the balance right after it, or its refusal.
    return known.refusal ?? { ok: true, balanceMinor: known.balanceAfterMinor };
  }
  // A refusal that depends on the player is remembered with the id, so a copy is refused alike.
  const refuse = (outcome: Outcome): Outcome => {
    ledger.setRecord(item.transactionId, {
      status: "refused",
      playerId: item.playerId,
      content,
      balanceAfterMinor: null,
      batchId,
      refusal: outcome,
    });
    return outcome;
  };
  // A suspended or closed player may not stake, whatever the stake says (its currency too);
  // wins, None and reversals are still paid.
  if (item.type === "Debit" && ledger.status(item.playerId) !== "active")
    return refuse(refused(403, "PLAYER_SUSPENDED"));
  if (currency !== CURRENCY) return refuse(refused(400, "CURRENCY_MISMATCH"));
  if (item.type === "None" && item.amountMinor !== 0)
    return refuse(refused(400, "INVALID_REQUEST")); // "None" has amount 0
  const before = ledger.balance(item.playerId);
  const after = before + SIGN[item.type] * item.amountMinor;
  if (after < 0) return refuse(refused(402, "INSUFFICIENT_FUNDS", before));
  ledger.setBalance(item.playerId, after);
  ledger.setRecord(item.transactionId, {
    status: "applied",
    playerId: item.playerId,
    content,
    balanceAfterMinor: after,
    batchId,
  });
  return { ok: true, balanceMinor: after };
}

/** DELETE /wallet/cancel naming the player: reverses once, or remembers an unknown id. */
function decideCancel(
  ledger: Ledger,
  transactionId: string,
  playerId: string,
  batchId: string | null,
): Outcome {
  const known = ledger.record(transactionId);
  const balance = ledger.balance(playerId);
  if (!known) {
    ledger.setRecord(transactionId, {
      status: "tombstone",
      playerId,
      content: null,
      balanceAfterMinor: null,
      batchId,
    });
    return { ok: true, balanceMinor: balance };
  }
  if (known.playerId !== null && known.playerId !== playerId)
    return refused(400, "INVALID_REQUEST");
  // An operator transfer is final: ThrillGate's cancel neither reverses it nor answers it as done.
  if (known.content && isTransfer(known.content.type)) return refused(409, "DUPLICATE_TRANSACTION");
  if (known.status !== "applied" || !known.content) return { ok: true, balanceMinor: balance };
  const after = balance - SIGN[known.content.type] * known.content.amountMinor;
  // Taking back a credit the player has already spent would overdraw.
  if (after < 0) return refused(402, "INSUFFICIENT_FUNDS", balance);
  ledger.setBalance(playerId, after);
  ledger.setRecord(transactionId, { ...known, status: "cancelled" });
  return { ok: true, balanceMinor: after };
}

/** The balance change an applied id makes: what its applying ledger entry shows. */
export function deltaMinor(type: EntryType, amountMinor: number): number {
  return SIGN[type] * amountMinor;
}

const isTransfer = (type: EntryType) => type === "TransferIn" || type === "TransferOut";

/** POST /admin/players/{id}/transfers: exactly once by transfer id, in the one id space. */
function decideTransfer(ledger: Ledger, item: TransferItem): Outcome {
  const type: EntryType = item.direction === "in" ? "TransferIn" : "TransferOut";
  const content = { type, amountMinor: item.amountMinor, currency: CURRENCY };
  const known = ledger.record(item.transferId);
  if (known) {
    // A ThrillGate id (a tombstone too), another player's id or other content: never this transfer.
    const same =
      known.playerId === item.playerId && JSON.stringify(known.content) === JSON.stringify(content);
    if (!same) return refused(409, "DUPLICATE_TRANSACTION");
    return known.refusal ?? { ok: true, balanceMinor: known.balanceAfterMinor };
  }
  const refuse = (outcome: Outcome): Outcome => {
    ledger.setRecord(item.transferId, {
      status: "refused",
      playerId: item.playerId,
      content,
      balanceAfterMinor: null,
      batchId: null,
      refusal: outcome,
    });
    return outcome;
  };
  if (item.direction === "in" && ledger.status(item.playerId) === "closed")
    return refuse(refused(403, "PLAYER_CLOSED"));
  const before = ledger.balance(item.playerId);
  const after = before + SIGN[type] * item.amountMinor;
  if (after < 0) return refuse(refused(402, "INSUFFICIENT_FUNDS", before));
  ledger.setBalance(item.playerId, after);
  ledger.setRecord(item.transferId, {
    status: "applied",
    playerId: item.playerId,
    content,
    balanceAfterMinor: after,
    batchId: null,
    reason: item.reason,
  });
  return { ok: true, balanceMinor: after };
}

/**
 * PATCH /admin/players/{id}: any status from any status, but only an empty account closes. The
 * status a player has already is no change: closed again after a win was paid to the closed
 * player answers 200 with that balance, as a resent close must.
 */
function decideStatus(ledger: Ledger, playerId: string, status: PlayerStatus): Outcome {
  const balance = ledger.balance(playerId);
  const change = ledger.status(playerId) !== status;
  if (change && status === "closed" && balance !== 0)
    return refused(409, "BALANCE_NOT_ZERO", balance);
  ledger.setStatus(playerId, status);
  return { ok: true, balanceMinor: balance };
}

/** A cancel without a player of an id nobody owns: a tombstone, answered with balance "0". */
function decideOrphanCancel(
  ledger: Ledger,
  transactionId: string,
  batchId: string | null,
): Outcome {
  if (!ledger.record(transactionId)) {
    ledger.setRecord(transactionId, {
      status: "tombstone",
      playerId: null,
      content: null,
      balanceAfterMinor: null,
      batchId,
    });
  }
  return { ok: true, balanceMinor: null };
}

/** Who owns an id, for a cancel that names no player: its player, or nobody. */
function ownerOf(ledger: Ledger, transactionId: string): string | null {
  return ledger.record(transactionId)?.playerId ?? null;
}

const number = (minor: number) => money(minor);
const text = (minor: number | null) => JSON.stringify(minor === null ? "0" : money(minor));

function errorLine(
  outcome: Extract<Outcome, { ok: false }>,
  balance: (minor: number) => string,
  withStatus: boolean,
): string {
  const head = withStatus ? `${outcome.status} ${outcome.code}` : `ERROR ${outcome.code}`;
  return outcome.balanceMinor === undefined ? head : `${head} ${balance(outcome.balanceMinor)}`;
}

/** A single request's answer is its one line; a repeat must answer it too. */
function single(line: string): Expected {
  return { header: line, items: [], ids: [], parts: [] };
}

/** Same content in the wallet's sense: one id twice in a batch with other content is a whole-batch 409. */
function contentKey(item: TxItem): string {
  return JSON.stringify([item.playerId, item.type, item.amountMinor, item.currency]);
}

/** Plays `op` once on `ledger` (changing it) and says what the wallet must answer. */
export function execute(ledger: Ledger, op: Op): Expected {
  switch (op.kind) {
    case "balance":
      return single(`200 ${number(ledger.balance(op.playerId))}`);
    case "transaction": {
      const outcome = decideTransaction(ledger, op.item, null);
      const line = outcome.ok
        ? `200 ${op.item.transactionId} ${number(outcome.balanceMinor ?? 0)} ${CURRENCY}`
        : errorLine(outcome, number, true);
      return single(line);
    }
    case "cancel": {
      const { transactionId, playerId } = op.item;
      const owner = playerId ?? ownerOf(ledger, transactionId);
      const outcome = owner
        ? decideCancel(ledger, transactionId, owner, null)
        : decideOrphanCancel(ledger, transactionId, null);
      // The single cancel's error body carries the balance as a number, its success as a string.
      return single(
        outcome.ok ? `200 ${text(outcome.balanceMinor)}` : errorLine(outcome, number, true),
      );
    }
    case "batch":
      return executeBatch(ledger, op);
    case "cancelBatch":
      return executeCancelBatch(ledger, op);
    case "transfer": {
      const { transferId, direction } = op.item;
      const outcome = decideTransfer(ledger, op.item);
      return single(
        outcome.ok
          ? `200 ${transferId} ${direction} ${number(outcome.balanceMinor ?? 0)} ${CURRENCY}`
          : errorLine(outcome, number, true),
      );
    }
    case "race": {
      // The generator's guess; the bank plays the order the answers show (see RaceOp).
      const play = executeRace(ledger, op, [...RACE_PARTS]);
      return single(`race ${play.order.map((part) => play.answers[part]).join(" | ")}`);
    }
    case "status": {
      const outcome = decideStatus(ledger, op.playerId, op.status);
      return single(
        outcome.ok
          ? `200 ${op.status} ${number(outcome.balanceMinor ?? 0)}`
          : errorLine(outcome, number, true),
      );
    }
  }
}

function executeBatch(ledger: Ledger, op: Extract<Op, { kind: "batch" }>): Expected {
  const seen = new Map<string, string>();
  for (const item of op.items) {
    const earlier = seen.get(item.transactionId);
    if (earlier !== undefined && earlier !== contentKey(item))
      return { header: "409 DUPLICATE_TRANSACTION", items: [], ids: [], parts: [] };
    seen.set(item.transactionId, contentKey(item));
  }
  const items = op.items.map((item) => {
    const outcome = decideTransaction(ledger, item, op.batchId);
    const result = outcome.ok
      ? `OK ${number(outcome.balanceMinor ?? 0)}`
      : errorLine(outcome, number, false);
    return `${item.transactionId} ${item.playerId} ${result}`;
  });
  return {
    header: `200 batch=${op.batchId ?? "-"}`,
    items,
    ids: op.items.map((item) => item.transactionId),
    parts: op.items.map((item) => item.playerId),
  };
}

function executeCancelBatch(ledger: Ledger, op: Extract<Op, { kind: "cancelBatch" }>): Expected {
  const listed =
    op.items ??
    batchCancelOrder(ledger, op.batchId ?? "").map((transactionId) => ({
      transactionId,
      playerId: ownerOf(ledger, transactionId),
    }));
  // The wallet finds the owners of unnamed ids once, before it cancels anything.
  const resolved = listed.map((item) => ({
    ...item,
    owner: item.playerId ?? ownerOf(ledger, item.transactionId),
  }));
  const items = resolved.map(({ transactionId, owner }) => {
    const outcome = owner
      ? decideCancel(ledger, transactionId, owner, op.batchId)
      : decideOrphanCancel(ledger, transactionId, op.batchId);
    return `${transactionId} ${outcome.ok ? `OK ${text(outcome.balanceMinor)}` : errorLine(outcome, text, false)}`;
  });
  return {
    header: `200 batch=${op.batchId ?? "-"}`,
    items,
    ids: resolved.map((item) => item.transactionId),
    parts: resolved.map(({ transactionId, owner }) => owner ?? `orphan ${transactionId}`),
  };
}

/**
 * The ids a cancel by batch_id alone takes, in the order the wallet undoes them: the applied ones
 * (applied or since cancelled) last applied first, then those never applied (their cancels change
 * nothing, so their order among themselves does not matter).
 */
function batchCancelOrder(ledger: Ledger, batchId: string): string[] {
  const ids = ledger.batchIds(batchId);
  const wasApplied = (id: string) =>
    ["applied", "cancelled"].includes(ledger.record(id)?.status ?? "");
  return [...ids.filter(wasApplied).reverse(), ...ids.filter((id) => !wasApplied(id))];
}
