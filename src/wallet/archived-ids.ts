import type { KnownTransaction } from "../ledger/writes";

// The ids of a player whose rows the archive job moved out of D1, kept in the player object's own
// SQLite storage (docs/archive.md): what D1 knew of each id (status, type, amount, currency, the
// answer given), so that a copy is answered as before and never applied again. The object reads
// this table before it applies an id it does not know: a local read, no D1 or R2 round trip.

/** An id as the archive job hands it to its player's object. */
export interface ArchivedId {
  known: KnownTransaction;
  /** When D1 first recorded the id: the id window (TRANSACTION_ID_RETENTION_DAYS) counts from it. */
  createdAtMs: number;
}

const TABLE = "archived_ids";

export class ArchivedIds {
  readonly #sql: SqlStorage;
  /** Unknown until first asked; most objects never hold an archived id, and get no table. */
  #exists: boolean | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #hasTable(): boolean {
    this.#exists ??=
      this.#sql
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", TABLE)
        .toArray().length > 0;
    return this.#exists;
  }

  #ensureTable(): void {
    if (this.#hasTable()) return;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      transaction_id TEXT PRIMARY KEY,
      status TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL,
      known TEXT NOT NULL)`);
    this.#sql.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_created_idx ON ${TABLE} (created_at_ms)`);
    this.#exists = true;
  }

  get(transactionId: string): KnownTransaction | undefined {
    if (!this.#hasTable()) return undefined;
    const row = this.#sql
      .exec<{ known: string }>(`SELECT known FROM ${TABLE} WHERE transaction_id = ?`, transactionId)
      .toArray()[0];
    // Written only by put() and update() below, from a KnownTransaction.
    return row ? (JSON.parse(row.known) as KnownTransaction) : undefined;
  }

  /**
   * Adds ids, or refreshes those already held. A status only moves forward: an id this object has
   * seen cancelled stays cancelled, though the job read it from D1 before the cancel committed.
   */
  put(ids: readonly ArchivedId[]): void {
    if (ids.length === 0) return;
    this.#ensureTable();
    for (const { known, createdAtMs } of ids) {
      this.#sql.exec(
        `INSERT INTO ${TABLE} (transaction_id, status, created_at_ms, known) VALUES (?, ?, ?, ?)
         ON CONFLICT (transaction_id) DO UPDATE SET status = excluded.status, known = excluded.known
         WHERE ${TABLE}.status != 'cancelled'`,
        known.transactionId,
        known.status,
        createdAtMs,
        JSON.stringify(known),
      );
    }
  }

  /** Records that these archived ids were reversed (their cancellations were archived, or just written). */
  markCancelled(transactionIds: readonly string[]): void {
    for (const transactionId of transactionIds) {
      const known = this.get(transactionId);
      if (known?.status === "applied") this.update({ ...known, status: "cancelled" });
    }
  }

  /** What the object now knows of an id it holds here (after a cancel of it committed). */
  update(known: KnownTransaction): void {
    // Called for every id the object writes or reads: a read first, so that an id not held here
    // (nearly all of them) costs no storage write.
    const held = this.get(known.transactionId);
    if (held === undefined || JSON.stringify(held) === JSON.stringify(known)) return;
    this.#sql.exec(
      `UPDATE ${TABLE} SET status = ?, known = ? WHERE transaction_id = ?`,
      known.status,
      JSON.stringify(known),
      known.transactionId,
    );
  }

  /** Forgets ids first recorded before `beforeMs` (the id window has passed); returns how many. */
  prune(beforeMs: number): number {
    if (!this.#hasTable()) return 0;
    return this.#sql.exec(`DELETE FROM ${TABLE} WHERE created_at_ms < ?`, beforeMs).rowsWritten;
  }

  count(): number {
    if (!this.#hasTable()) return 0;
    return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${TABLE}`).toArray()[0]?.n ?? 0;
  }
}
