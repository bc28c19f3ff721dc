// Seeded random operation sequences for the bank: what ThrillGate might send, duplicates and
// retries included. Only the seed decides the sequence (no Math.random), so a printed seed
// replays a failure exactly.
import { FOREIGN_CURRENCY, CURRENCY, type AmountForm, type CancelItem, type Op, type TxItem, type TxType } from "./model";

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
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const chance = (p: number) => random() < p;
  function pick<T>(list: readonly T[]): T {
    const value = list[Math.floor(random() * list.length)];
    if (value === undefined) throw new Error("pick from an empty list");
    return value;
  }
  function weighted<T extends string>(table: readonly (readonly [T, number])[]): T {
    let roll = random() * table.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of table) if ((roll -= weight) < 0) return value;
    return pick(table)[0];
  }

  const players = Array.from({ length: playerCount }, (_, i) => ({
    playerId: `${runId}-p${i}`,
    // Some players start empty or poor, so debits are refused and credit cancels overdraw.
    openingMinor: chance(0.15) ? 0 : int(0, 4) === 0 ? int(1, 2_000) : int(2_000, 30_000),
  }));
  const playerIds = players.map((p) => p.playerId);

  let ids = 0;
  let batchCount = 0;
  const newId = () => `${runId}-t${++ids}`;
  const newBatchId = () => `${runId}-b${++batchCount}`;
  const sent: TxItem[] = []; // every item sent so far, refused ones too
  const lateOriginals: TxItem[] = []; // items whose cancel went first
  const batchesSent: Extract<Op, { kind: "batch" }>[] = [];
  const batchIdsUsed: string[] = [];
  const idPlayers = new Map<string, Set<string>>(); // every player any request tied to an id
  const batchIdIds = new Map<string, Set<string>>(); // every id any request sent with a batch id
  const takeLateOriginal = (): TxItem | undefined => lateOriginals.shift();

  function amountMinor(type: TxType): number {
    if (type === "None") return 0;
    if (type === "Credit") return chance(0.05) ? 0 : int(1, 3_000);
    return pick([int(1, 2_000), int(1, 2_000), int(2_000, 10_000), int(10_000, 50_000)]);
  }
  const form = (): AmountForm => weighted([["string", 5], ["number", 4], ["padded", 1]] as const);

  function newItem(type: TxType, playerId = pick(playerIds), inBatch = false): TxItem {
    // A single call may leave the currency out (the player's is meant); batch items always name it,
    // since one id twice in a batch, once with and once without it, would be "other content".
    const currency = inBatch || chance(0.85) ? CURRENCY : null;
    return { playerId, transactionId: newId(), type, amountMinor: amountMinor(type), form: form(), currency };
  }

  /** The same content again, written another way (same amount, other text, currency named or not). */
  function replayOf(item: TxItem, inBatch = false): TxItem {
    // A missing currency means the player's: "EUR" and no currency are the same content.
    let currency = item.currency;
    if (inBatch && currency === null) currency = CURRENCY;
    else if (!inBatch && currency === CURRENCY && chance(0.3)) currency = null;
    return { ...item, form: form(), currency };
  }

  /** The same id with other content: another amount, type, player or currency. */
  function conflictOf(item: TxItem): TxItem {
    switch (int(0, 3)) {
      case 0:
        return { ...item, amountMinor: item.amountMinor + int(1, 500), type: item.type === "None" ? "Credit" : item.type };
      case 1:
        return { ...item, type: item.type === "Debit" ? "Credit" : "Debit" };
      case 2:
        return { ...item, playerId: pick(playerIds.filter((p) => p !== item.playerId)) };
      default:
        return { ...item, currency: FOREIGN_CURRENCY };
    }
  }

  const freshType = (): TxType => weighted([["Debit", 6], ["Credit", 3], ["None", 1]] as const);

  function txItemForBatch(batchPlayers: string[], chosen: TxItem[]): TxItem {
    const roll = random();
    if (roll < 0.1 && sent.length > 0) return replayOf(pick(sent), true);
    const late = roll < 0.2 ? takeLateOriginal() : undefined;
    if (late) return replayOf(late, true);
    if (roll < 0.25 && chosen.length > 0) return replayOf(pick(chosen), true); // one item twice, same content
    if (roll < 0.3 && sent.length > 0) return { ...conflictOf(pick(sent)), currency: CURRENCY };
    return newItem(freshType(), pick(batchPlayers), true);
  }

  function cancelTarget(): CancelItem {
    const item = pick(sent);
    const owner = chance(0.95) ? item.playerId : pick(playerIds); // sometimes the wrong player
    return { transactionId: item.transactionId, playerId: chance(0.45) ? null : owner };
  }

  /** A cancel of an id not sent yet: the wallet keeps a tombstone, and the original comes later. */
  function cancelFirst(): CancelItem {
    const original = newItem(freshType());
    lateOriginals.push(original);
    return { transactionId: original.transactionId, playerId: chance(0.4) ? null : original.playerId };
  }

  function nextOp(): Op {
    const late = chance(0.15) ? takeLateOriginal() : undefined;
    if (late) return { kind: "transaction", item: replayOf(late) };
    const kind = weighted([
      ["debit", 22], ["credit", 12], ["none", 3], ["replay", 8], ["conflict", 5], ["cancel", 10], ["cancelFirst", 5],
      ["batch", 12], ["batchReplay", 3], ["cancelBatch", 6], ["balance", 3], ["foreign", 1],
    ] as const);
    switch (kind) {
      case "debit":
        return { kind: "transaction", item: newItem("Debit") };
      case "credit":
        return { kind: "transaction", item: newItem("Credit") };
      case "none":
        return { kind: "transaction", item: newItem("None") };
      case "foreign":
        return { kind: "transaction", item: { ...newItem("Debit"), currency: FOREIGN_CURRENCY } };
      case "replay":
        return sent.length ? { kind: "transaction", item: replayOf(pick(sent)) } : nextOp();
      case "conflict":
        return sent.length ? { kind: "transaction", item: conflictOf(pick(sent)) } : nextOp();
      case "cancel":
        return sent.length ? { kind: "cancel", item: cancelTarget() } : nextOp();
      case "cancelFirst":
        return { kind: "cancel", item: cancelFirst() };
      case "balance":
        return { kind: "balance", playerId: pick(playerIds) };
      case "batchReplay":
        // A whole batch again, long after (a late ThrillGate retry): every item answers as before.
        return batchesSent.length ? pick(batchesSent) : nextOp();
      case "batch": {
        const batchPlayers = Array.from({ length: int(1, 4) }, () => pick(playerIds));
        const items: TxItem[] = [];
        const size = pick([1, 2, 2, 3, 3, 4, 5, 6, 8]);
        while (items.length < size) items.push(txItemForBatch(batchPlayers, items));
        // Rarely, one id twice with different content: the whole batch is refused.
        if (chance(0.04)) {
          const twin = pick(items);
          items.push({ ...twin, amountMinor: twin.amountMinor + 1 });
        }
        const batchId = chance(0.65) ? newBatchId() : null;
        const op = { kind: "batch", batchId, bare: batchId === null && chance(0.5), items } as const;
        batchesSent.push(op);
        if (batchId) batchIdsUsed.push(batchId);
        return op;
      }
      case "cancelBatch": {
        if (batchIdsUsed.length > 0 && chance(0.25)) {
          return { kind: "cancelBatch", batchId: pick(batchIdsUsed), bare: false, items: null };
        }
        // One id appears with one player value only: two objects (or an object and the orphan
        // path) deciding one unknown id at once would race, and the model could not say who wins.
        const byId = new Map<string, CancelItem>();
        const items: CancelItem[] = [];
        const size = int(1, 6);
        while (items.length < size) {
          const roll = random();
          const item = roll < 0.6 && sent.length > 0 ? cancelTarget() : roll < 0.85 ? cancelFirst() : items.length ? pick(items) : cancelFirst();
          const earlier = byId.get(item.transactionId);
          items.push(earlier ?? item);
          byId.set(item.transactionId, earlier ?? item);
        }
        const batchId = chance(0.3) ? (batchIdsUsed.length && chance(0.5) ? pick(batchIdsUsed) : newBatchId()) : null;
        return { kind: "cancelBatch", batchId, bare: batchId === null && chance(0.5), items };
      }
    }
  }

  function keysOf(op: Op): string[] {
    const idsOf: string[] = [];
    const playersOf = new Set<string>();
    const batchId = op.kind === "batch" || op.kind === "cancelBatch" ? op.batchId : null;
    switch (op.kind) {
      case "balance":
        playersOf.add(op.playerId);
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
        if (!op.items) idsOf.push(...(batchIdIds.get(op.batchId ?? "") ?? []));
        break;
    }
    // An id's owner is one of the players any earlier request tied to it.
    for (const id of idsOf) for (const player of idPlayers.get(id) ?? []) playersOf.add(player);
    for (const id of idsOf) {
      const tied = idPlayers.get(id) ?? new Set<string>();
      for (const player of playersOf) tied.add(player);
      idPlayers.set(id, tied);
    }
    if (batchId) {
      const tied = batchIdIds.get(batchId) ?? new Set<string>();
      for (const id of idsOf) tied.add(id);
      batchIdIds.set(batchId, tied);
    }
    return [...[...playersOf].map((p) => `player ${p}`), ...idsOf.map((id) => `id ${id}`), ...(batchId ? [`batch ${batchId}`] : [])];
  }

  function faultFor(op: Op, keys: string[]): PlannedOp["fault"] {
    const targets = keys.filter((key) => key.startsWith("player ")).map((key) => key.slice("player ".length));
    if (targets.length === 0 || !chance(faultRate)) return null;
    const target = pick(targets);
    // At most 3 failed attempts per op, so that ThrillGate's 3 retries always get an answer.
    const plan = weighted([["fail", 3], ["lose", 3], ["restart", 2], ["failLose", 1], ["restartFail", 1]] as const);
    const count = int(1, 3);
    const plans: Record<typeof plan, FaultPlan> = {
      fail: { fail_next_writes: count },
      lose: { lose_next_answers: count },
      restart: { restart: true },
      failLose: { fail_next_writes: 1, lose_next_answers: 1 },
      restartFail: { restart: true, fail_next_writes: 1 },
    };
    return { playerId: target, plan: plans[plan] };
  }

  const ops: PlannedOp[] = [];
  for (let index = 0; index < operations; index++) {
    const op = nextOp();
    if (op.kind === "transaction") sent.push(op.item);
    if (op.kind === "batch") sent.push(...op.items);
    const keys = keysOf(op);
    const copies = weighted([["1", 11], ["2", 6], ["3", 3]] as const);
    ops.push({ index, op, copies: Number(copies), concurrent: chance(0.5), fault: faultFor(op, keys), keys });
  }
  return { players, ops };
}
