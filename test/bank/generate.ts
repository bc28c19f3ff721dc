// Seeded random operation sequences for the bank: what ThrillGate might send, duplicates and
// retries included. Only the seed decides the sequence (no Math.random), so a printed seed
// replays a failure exactly.
import {
  FOREIGN_CURRENCY,
  CURRENCY,
  execute,
  Ledger,
  type AmountForm,
  type CancelItem,
  type Op,
  type PlayerStatus,
  type TransferDirection,
  type TransferItem,
  type TxItem,
  type TxType,
} from "./model";

/** mulberry32: a small, well-mixed 32-bit PRNG; numbers in [0, 1). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Faults armed in one player's object just before an op, as POST /admin/faults takes them. */
export interface FaultPlan {
  fail_next_writes?: number;
  lose_next_answers?: number;
  restart?: boolean;
}

export interface PlannedOp {
  index: number;
  op: Op;
  /** How many times the request is sent (a first call and ThrillGate-like resends). */
  copies: number;
  /** Copies sent all at once (a retry racing the call it retries), or one after the other. */
  concurrent: boolean;
  fault: { playerId: string; plan: FaultPlan } | null;
  /**
   * The players, ids and batch ids this op may touch. The runner starts an op only after every
   * earlier op sharing a key has finished, so per player and per id the wallet sees the ops in
   * generation order and the model, played in that order, is exact.
   */
  keys: string[];
}

export interface Plan {
  players: { playerId: string; openingMinor: number }[];
  ops: PlannedOp[];
}

export interface GenerateOptions {
  seed: number;
  operations: number;
  /** Prefix of every player, transaction and batch id, unique per run. */
  runId: string;
  players?: number;
  /** Share of ops with a fault armed just before them. */
  faultRate?: number;
}

export function generate(options: GenerateOptions): Plan {
  const { seed, operations, runId, players: playerCount = 50, faultRate = 0.1 } = options;
  const draw = new Draw(prng(seed));
  const players = Array.from({ length: playerCount }, (_, i) => ({
    playerId: `${runId}-p${i}`,
    // Some players start empty or poor, so debits are refused and credit cancels overdraw.
    openingMinor: draw.chance(0.15)
      ? 0
      : draw.int(0, 4) === 0
        ? draw.int(1, 2_000)
        : draw.int(2_000, 30_000),
  }));
  // The generator plays the model along, to know balances and statuses: to drain a player
  // before closing it, and to send transfers out both within and above the balance.
  const model = new Ledger();
  for (const { playerId, openingMinor } of players) model.setBalance(playerId, openingMinor);
  const ops = new OpGenerator(
    draw,
    runId,
    players.map((p) => p.playerId),
    model,
  );
  const keys = new KeyTracker();

  const planned: PlannedOp[] = [];
  for (let index = 0; index < operations; index++) {
    const op = ops.nextOp();
    ops.remember(op);
    const opKeys = keys.keysOf(op);
    const copies = draw.weighted([
      ["1", 11],
      ["2", 6],
      ["3", 3],
    ] as const);
    planned.push({
      index,
      op,
      copies: Number(copies),
      concurrent: draw.chance(0.5),
      fault: faultFor(draw, faultRate, opKeys),
      keys: opKeys,
    });
  }
  return { players, ops: planned };
}

/** The seeded draws. Every choice of the generator goes through here, in a fixed order per seed. */
class Draw {
  constructor(readonly random: () => number) {}

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(list: readonly T[]): T {
    const value = list[Math.floor(this.random() * list.length)];
    if (value === undefined) throw new Error("pick from an empty list");
    return value;
  }

  weighted<T extends string>(table: readonly (readonly [T, number])[]): T {
    let roll = this.random() * table.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of table) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return this.pick(table)[0];
  }
}

// What comes next, by weight: ThrillGate's calls, then the operator's (issue 13).
const THRILLGATE_KINDS = [
  ["debit", 22],
  ["credit", 12],
  ["none", 3],
  ["replay", 8],
  ["conflict", 5],
  ["cancel", 10],
  ["cancelFirst", 5],
  ["batch", 12],
  ["batchReplay", 3],
  ["cancelBatch", 6],
  ["balance", 3],
  ["foreign", 1],
  // ThrillGate naming an operator transfer's id: never applied, never reversed.
  ["txOnTransferId", 1],
  ["cancelTransfer", 1],
] as const;
const OPERATOR_KINDS = [
  ["transfer", 8],
  // To a suspended or closed player: out always works, in is refused when closed.
  ["transferInactive", 3],
  ["transferReplay", 2],
  ["transferConflict", 1],
  // A transfer taking an id ThrillGate sent (applied, refused or a cancel's tombstone).
  ["transferOnTxId", 1],
  ["status", 6],
  // A suspend or an activation sent at the same time as the player's Debit, Credit and authenticates.
  ["race", 5],
] as const;
type OperatorKind = (typeof OPERATOR_KINDS)[number][0];
type ThrillGateKind = (typeof THRILLGATE_KINDS)[number][0];
const isOperatorKind = (kind: string): kind is OperatorKind =>
  OPERATOR_KINDS.some(([operatorKind]) => operatorKind === kind);

/** What ThrillGate and the operator might send next, given what they have sent so far. */
class OpGenerator {
  private ids = 0;
  private batchCount = 0;
  private readonly sent: TxItem[] = []; // every item sent so far, refused ones too
  private readonly lateOriginals: TxItem[] = []; // items whose cancel went first
  private readonly batchesSent: Extract<Op, { kind: "batch" }>[] = [];
  private readonly batchIdsUsed: string[] = [];
  private readonly transfersSent: TransferItem[] = [];
  /** Ops decided earlier that must come next, in order (a close after the drain before it). */
  private readonly queued: Op[] = [];

  constructor(
    private readonly draw: Draw,
    private readonly runId: string,
    private readonly playerIds: string[],
    /** The model, played in generation order: balances and statuses as the op will meet them. */
    private readonly model: Ledger,
  ) {}

  /** Items of a sent op become candidates for replays, conflicts and cancels. */
  remember(op: Op): void {
    if (op.kind === "transaction") this.sent.push(op.item);
    if (op.kind === "batch") this.sent.push(...op.items);
    if (op.kind === "transfer") this.transfersSent.push(op.item);
    if (op.kind === "race") this.sent.push(op.debit, op.credit);
    execute(this.model, op);
  }

  nextOp(): Op {
    const queued = this.queued.shift();
    if (queued) return queued;
    const late = this.draw.chance(0.15) ? this.takeLateOriginal() : undefined;
    if (late) return { kind: "transaction", item: this.replayOf(late) };
    const kind = this.draw.weighted([...THRILLGATE_KINDS, ...OPERATOR_KINDS]);
    const op = isOperatorKind(kind) ? this.operatorOp(kind) : this.thrillGateOp(kind);
    return op ?? this.nextOp(); // nothing sent yet to replay, conflict with or cancel
  }

  private thrillGateOp(kind: ThrillGateKind): Op | undefined {
    const { draw, sent } = this;
    switch (kind) {
      case "debit":
        return { kind: "transaction", item: this.newItem("Debit") };
      case "credit":
        return { kind: "transaction", item: this.newItem("Credit") };
      case "none":
        return { kind: "transaction", item: this.newItem("None") };
      case "foreign":
        return {
          kind: "transaction",
          item: { ...this.newItem("Debit"), currency: FOREIGN_CURRENCY },
        };
      case "replay":
        return sent.length
          ? { kind: "transaction", item: this.replayOf(draw.pick(sent)) }
          : undefined;
      case "conflict":
        return sent.length
          ? { kind: "transaction", item: this.conflictOf(draw.pick(sent)) }
          : undefined;
      case "cancel":
        return sent.length ? { kind: "cancel", item: this.cancelTarget() } : undefined;
      case "cancelFirst":
        return { kind: "cancel", item: this.cancelFirst() };
      case "balance":
        return { kind: "balance", playerId: draw.pick(this.playerIds) };
      case "batchReplay":
        // A whole batch again, long after (a late ThrillGate retry): every item answers as before.
        return this.batchesSent.length ? draw.pick(this.batchesSent) : undefined;
      case "batch":
        return this.batch();
      case "cancelBatch":
        return this.cancelBatch();
      case "txOnTransferId":
        return this.transfersSent.length
          ? { kind: "transaction", item: this.onTransferId(draw.pick(this.transfersSent)) }
          : undefined;
      case "cancelTransfer":
        return this.transfersSent.length
          ? { kind: "cancel", item: this.cancelOfTransfer() }
          : undefined;
    }
  }

  private operatorOp(kind: OperatorKind): Op | undefined {
    const { draw, transfersSent } = this;
    switch (kind) {
      case "transfer":
        return { kind: "transfer", item: this.newTransfer() };
      case "transferInactive": {
        const inactive = this.inactivePlayers();
        return inactive.length
          ? { kind: "transfer", item: this.newTransfer(draw.pick(inactive)) }
          : undefined;
      }
      case "transferReplay":
        return transfersSent.length
          ? { kind: "transfer", item: this.transferReplayOf(draw.pick(transfersSent)) }
          : undefined;
      case "transferConflict":
        return transfersSent.length
          ? { kind: "transfer", item: this.transferConflictOf(draw.pick(transfersSent)) }
          : undefined;
      case "transferOnTxId":
        return this.transferOnTxId();
      case "status":
        return this.statusChange();
      case "race":
        return this.race();
    }
  }

  /** Suspend an active player or reactivate a suspended one, racing its Debit and Credit. */
  private race(): Op | undefined {
    const { draw } = this;
    const withStatus = (status: PlayerStatus) =>
      this.playerIds.filter((p) => this.model.status(p) === status);
    const suspended = withStatus("suspended");
    const active = withStatus("active");
    const reactivate = suspended.length > 0 && (active.length === 0 || draw.chance(0.5));
    if (!reactivate && active.length === 0) return undefined;
    const playerId = draw.pick(reactivate ? suspended : active);
    return {
      kind: "race",
      playerId,
      status: reactivate ? "active" : "suspended",
      debit: this.newItem("Debit", playerId),
      credit: this.newItem("Credit", playerId),
    };
  }

  // ---- The operator's side: transfers and status changes -----------------------------------

  /** A new transfer of `playerId`. */
  private newTransfer(
    playerId = this.somePlayer(),
    direction: TransferDirection = this.draw.chance(0.5) ? "in" : "out",
    amountMinor = this.transferAmount(playerId, direction),
  ): TransferItem {
    const { draw } = this;
    return {
      playerId,
      transferId: `${this.runId}-x${++this.ids}`,
      direction,
      amountMinor,
      form: this.form(),
      reason: draw.chance(0.3) ? null : draw.pick(REASONS),
    };
  }

  /** In: any amount. Out: mostly within the balance the player will have, sometimes all of it or more. */
  private transferAmount(playerId: string, direction: TransferDirection): number {
    const { draw } = this;
    if (direction === "in") return draw.int(1, 20_000);
    const balance = this.model.balance(playerId);
    switch (draw.weighted(OUT_AMOUNTS)) {
      case "within":
        return draw.int(1, Math.max(1, balance));
      case "all":
        return Math.max(1, balance);
      case "above":
        return balance + draw.int(1, 5_000);
    }
  }

  /**
   * The same transfer again, its amount written another way; now and then with another reason,
   * which is kept with the entry but is no content: the first one stays.
   */
  private transferReplayOf(item: TransferItem): TransferItem {
    const reason = this.draw.chance(0.2) ? this.draw.pick(REASONS) : item.reason;
    return { ...item, form: this.form(), reason };
  }

  /** The same transfer id with another amount, direction or player. */
  private transferConflictOf(item: TransferItem): TransferItem {
    const { draw } = this;
    switch (draw.int(0, 2)) {
      case 0:
        return { ...item, amountMinor: item.amountMinor + draw.int(1, 500) };
      case 1:
        return { ...item, direction: item.direction === "in" ? "out" : "in" };
      default:
        return { ...item, playerId: draw.pick(this.playerIds.filter((p) => p !== item.playerId)) };
    }
  }

  /** A transfer whose id ThrillGate sent: a transaction's, or that of a cancel sent before its original. */
  private transferOnTxId(): Op | undefined {
    const { draw } = this;
    const taken = [...this.sent, ...this.lateOriginals];
    if (taken.length === 0) return undefined;
    const original = draw.pick(taken);
    const playerId = draw.chance(0.7) ? original.playerId : this.somePlayer();
    return {
      kind: "transfer",
      item: { ...this.newTransfer(playerId, "in"), transferId: original.transactionId },
    };
  }

  /** A ThrillGate transaction (single or a batch item) reusing a transfer's id. */
  private onTransferId(transfer: TransferItem): TxItem {
    const playerId = this.draw.chance(0.85) ? transfer.playerId : this.somePlayer();
    return {
      ...this.newItem(this.freshType(), playerId, true),
      transactionId: transfer.transferId,
    };
  }

  /** ThrillGate cancelling a transfer: by its player, by nobody (the wallet finds it), or wrongly. */
  private cancelOfTransfer(): CancelItem {
    const { draw } = this;
    const transfer = draw.pick(this.transfersSent);
    const roll = draw.random();
    const playerId =
      roll < 0.45 ? null : roll < 0.95 ? transfer.playerId : draw.pick(this.playerIds);
    return { transactionId: transfer.transferId, playerId };
  }

  /** Suspend or close a player, or move one that is suspended or closed on (mostly back to active). */
  private statusChange(): Op {
    const { draw } = this;
    const inactive = this.inactivePlayers();
    const [playerId, status]: [string, PlayerStatus] =
      inactive.length > 0 && draw.chance(0.5)
        ? [draw.pick(inactive), draw.weighted(REACTIVATION)]
        : [draw.pick(this.playerIds), draw.chance(0.45) ? "suspended" : "closed"];
    return status === "closed" ? this.close(playerId) : { kind: "status", playerId, status };
  }

  /**
   * Closing needs a balance of 0, so it mostly follows a transfer out of everything the player
   * has (the close queued right behind it); sometimes it is tried as it is.
   */
  private close(playerId: string): Op {
    const balance = this.model.balance(playerId);
    const close: Op = { kind: "status", playerId, status: "closed" };
    if (balance === 0 || this.model.status(playerId) === "closed" || this.draw.chance(0.3))
      return close;
    this.queued.push(close);
    return { kind: "transfer", item: this.newTransfer(playerId, "out", balance) };
  }

  private inactivePlayers(): string[] {
    return this.playerIds.filter((p) => this.model.status(p) !== "active");
  }

  /** Any player, somewhat more often one that is suspended or closed (so their refusals and payouts happen). */
  private somePlayer(): string {
    const { draw } = this;
    const inactive = this.inactivePlayers();
    return inactive.length > 0 && draw.chance(0.15)
      ? draw.pick(inactive)
      : draw.pick(this.playerIds);
  }

  private batch(): Op {
    const { draw } = this;
    const batchPlayers = Array.from({ length: draw.int(1, 4) }, () => draw.pick(this.playerIds));
    const items: TxItem[] = [];
    const size = draw.pick([1, 2, 2, 3, 3, 4, 5, 6, 8]);
    while (items.length < size) items.push(this.txItemForBatch(batchPlayers, items));
    // Rarely, one id twice with different content: the whole batch is refused.
    if (draw.chance(0.04)) {
      const twin = draw.pick(items);
      items.push({ ...twin, amountMinor: twin.amountMinor + 1 });
    }
    const batchId = draw.chance(0.65) ? this.newBatchId() : null;
    const op = {
      kind: "batch",
      batchId,
      bare: batchId === null && draw.chance(0.5),
      items,
    } as const;
    this.batchesSent.push(op);
    if (batchId) this.batchIdsUsed.push(batchId);
    return op;
  }

  private cancelBatch(): Op {
    const { draw, batchIdsUsed } = this;
    if (batchIdsUsed.length > 0 && draw.chance(0.25)) {
      return { kind: "cancelBatch", batchId: draw.pick(batchIdsUsed), bare: false, items: null };
    }
    // One id appears with one player value only: two objects (or an object and the orphan
    // path) deciding one unknown id at once would race, and the model could not say who wins.
    const byId = new Map<string, CancelItem>();
    const items: CancelItem[] = [];
    const size = draw.int(1, 6);
    while (items.length < size) {
      const roll = draw.random();
      const item =
        roll < 0.55 && this.sent.length > 0
          ? this.cancelTarget()
          : roll < 0.6 && this.transfersSent.length > 0
            ? this.cancelOfTransfer()
            : roll < 0.85
              ? this.cancelFirst()
              : items.length
                ? draw.pick(items)
                : this.cancelFirst();
      const earlier = byId.get(item.transactionId);
      items.push(earlier ?? item);
      byId.set(item.transactionId, earlier ?? item);
    }
    const batchId = draw.chance(0.3)
      ? batchIdsUsed.length && draw.chance(0.5)
        ? draw.pick(batchIdsUsed)
        : this.newBatchId()
      : null;
    return { kind: "cancelBatch", batchId, bare: batchId === null && draw.chance(0.5), items };
  }

  private newId(): string {
    return `${this.runId}-t${++this.ids}`;
  }

  private newBatchId(): string {
    return `${this.runId}-b${++this.batchCount}`;
  }

  private takeLateOriginal(): TxItem | undefined {
    return this.lateOriginals.shift();
  }

  private amountMinor(type: TxType): number {
    const { draw } = this;
    if (type === "None") return 0;
    if (type === "Credit") return draw.chance(0.05) ? 0 : draw.int(1, 3_000);
    return draw.pick([
      draw.int(1, 2_000),
      draw.int(1, 2_000),
      draw.int(2_000, 10_000),
      draw.int(10_000, 50_000),
    ]);
  }

  private form(): AmountForm {
    return this.draw.weighted([
      ["string", 5],
      ["number", 4],
      ["padded", 1],
    ] as const);
  }

  private freshType(): TxType {
    return this.draw.weighted([
      ["Debit", 6],
      ["Credit", 3],
      ["None", 1],
    ] as const);
  }

  private newItem(type: TxType, playerId = this.somePlayer(), inBatch = false): TxItem {
    // A single call may leave the currency out (the player's is meant); batch items always name it,
    // since one id twice in a batch, once with and once without it, would be "other content".
    const currency = inBatch || this.draw.chance(0.85) ? CURRENCY : null;
    return {
      playerId,
      transactionId: this.newId(),
      type,
      amountMinor: this.amountMinor(type),
      form: this.form(),
      currency,
    };
  }

  /** The same content again, written another way (same amount, other text, currency named or not). */
  private replayOf(item: TxItem, inBatch = false): TxItem {
    // A missing currency means the player's: "EUR" and no currency are the same content.
    let currency = item.currency;
    if (inBatch && currency === null) currency = CURRENCY;
    else if (!inBatch && currency === CURRENCY && this.draw.chance(0.3)) currency = null;
    return { ...item, form: this.form(), currency };
  }

  /** The same id with other content: another amount, type, player or currency. */
  private conflictOf(item: TxItem): TxItem {
    const { draw } = this;
    switch (draw.int(0, 3)) {
      case 0:
        return {
          ...item,
          amountMinor: item.amountMinor + draw.int(1, 500),
          type: item.type === "None" ? "Credit" : item.type,
        };
      case 1:
        return { ...item, type: item.type === "Debit" ? "Credit" : "Debit" };
      case 2:
        return { ...item, playerId: draw.pick(this.playerIds.filter((p) => p !== item.playerId)) };
      default:
        return { ...item, currency: FOREIGN_CURRENCY };
    }
  }

  private txItemForBatch(batchPlayers: string[], chosen: TxItem[]): TxItem {
    const { draw, sent } = this;
    const roll = draw.random();
    if (roll < 0.1 && sent.length > 0) return this.replayOf(draw.pick(sent), true);
    const late = roll < 0.2 ? this.takeLateOriginal() : undefined;
    if (late) return this.replayOf(late, true);
    if (roll < 0.25 && chosen.length > 0) return this.replayOf(draw.pick(chosen), true); // one item twice, same content
    if (roll < 0.3 && sent.length > 0)
      return { ...this.conflictOf(draw.pick(sent)), currency: CURRENCY };
    if (roll < 0.33 && this.transfersSent.length > 0)
      return this.onTransferId(draw.pick(this.transfersSent)); // refused: the id is a transfer's
    return this.newItem(this.freshType(), draw.pick(batchPlayers), true);
  }

  private cancelTarget(): CancelItem {
    const { draw } = this;
    const item = draw.pick(this.sent);
    const owner = draw.chance(0.95) ? item.playerId : draw.pick(this.playerIds); // sometimes the wrong player
    return { transactionId: item.transactionId, playerId: draw.chance(0.45) ? null : owner };
  }

  /** A cancel of an id not sent yet: the wallet keeps a tombstone, and the original comes later. */
  private cancelFirst(): CancelItem {
    const original = this.newItem(this.freshType());
    this.lateOriginals.push(original);
    return {
      transactionId: original.transactionId,
      playerId: this.draw.chance(0.4) ? null : original.playerId,
    };
  }
}

const OUT_AMOUNTS = [
  ["within", 6],
  ["all", 1],
  ["above", 3],
] as const;
const REASONS = ["deposit", "withdrawal", "bonus ✓", 'manual "fix" #12', "übertrag 😀"];
/** A suspended or closed player's next status: mostly active again. */
const REACTIVATION: readonly (readonly [PlayerStatus, number])[] = [
  ["active", 5],
  ["suspended", 1],
  ["closed", 2],
];

/** Which players, ids and batch ids each op may touch, from everything sent before it. */
class KeyTracker {
  private readonly idPlayers = new Map<string, Set<string>>(); // every player any request tied to an id
  private readonly batchIdIds = new Map<string, Set<string>>(); // every id any request sent with a batch id

  keysOf(op: Op): string[] {
    const { idsOf, playersOf } = this.named(op);
    const batchId = op.kind === "batch" || op.kind === "cancelBatch" ? op.batchId : null;
    // An id's owner is one of the players any earlier request tied to it.
    for (const id of idsOf)
      for (const player of this.idPlayers.get(id) ?? []) playersOf.add(player);
    for (const id of idsOf) {
      const tied = this.idPlayers.get(id) ?? new Set<string>();
      for (const player of playersOf) tied.add(player);
      this.idPlayers.set(id, tied);
    }
    if (batchId) {
      const tied = this.batchIdIds.get(batchId) ?? new Set<string>();
      for (const id of idsOf) tied.add(id);
      this.batchIdIds.set(batchId, tied);
    }
    return [
      ...[...playersOf].map((p) => `player ${p}`),
      ...idsOf.map((id) => `id ${id}`),
      ...(batchId ? [`batch ${batchId}`] : []),
    ];
  }

  /** The ids and players the request itself names (a cancel by batch id: the ids sent with it). */
  private named(op: Op): { idsOf: string[]; playersOf: Set<string> } {
    const idsOf: string[] = [];
    const playersOf = new Set<string>();
    switch (op.kind) {
      case "balance":
      case "status":
        playersOf.add(op.playerId);
        break;
      case "race":
        idsOf.push(op.debit.transactionId, op.credit.transactionId);
        playersOf.add(op.playerId);
        break;
      case "transfer":
        idsOf.push(op.item.transferId);
        playersOf.add(op.item.playerId);
        break;
      case "transaction":
        idsOf.push(op.item.transactionId);
        playersOf.add(op.item.playerId);
        break;
      case "cancel":
        idsOf.push(op.item.transactionId);
        if (op.item.playerId) playersOf.add(op.item.playerId);
        break;
      case "batch":
        for (const item of op.items) {
          idsOf.push(item.transactionId);
          playersOf.add(item.playerId);
        }
        break;
      case "cancelBatch":
        for (const item of op.items ?? []) {
          idsOf.push(item.transactionId);
          if (item.playerId) playersOf.add(item.playerId);
        }
        if (!op.items) idsOf.push(...(this.batchIdIds.get(op.batchId ?? "") ?? []));
        break;
    }
    return { idsOf, playersOf };
  }
}

function faultFor(draw: Draw, faultRate: number, keys: string[]): PlannedOp["fault"] {
  const targets = keys
    .filter((key) => key.startsWith("player "))
    .map((key) => key.slice("player ".length));
  if (targets.length === 0 || !draw.chance(faultRate)) return null;
  const target = draw.pick(targets);
  // At most 3 failed attempts per op, so that ThrillGate's 3 retries always get an answer.
  const plan = draw.weighted([
    ["fail", 3],
    ["lose", 3],
    ["restart", 2],
    ["failLose", 1],
    ["restartFail", 1],
  ] as const);
  const count = draw.int(1, 3);
  const plans: Record<typeof plan, FaultPlan> = {
    fail: { fail_next_writes: count },
    lose: { lose_next_answers: count },
    restart: { restart: true },
    failLose: { fail_next_writes: 1, lose_next_answers: 1 },
    restartFail: { restart: true, fail_next_writes: 1 },
  };
  return { playerId: target, plan: plans[plan] };
}
