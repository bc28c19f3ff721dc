import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  cancellationRowCodec,
  dayPrefix,
  entryLine,
  gunzip,
  gzip,
  idRowCodec,
  manifestKey,
  manifestText,
  ndjson,
  ndjsonLines,
  parseEntryLine,
  parseManifest,
  partKey,
  PlayerTotals,
  sha256Hex,
  splitParts,
  type Manifest,
} from "../src/ledger/archive-format";
import type { ExportEntry } from "../src/ledger/export";
import { readArchiveConfig } from "../src/config";

// The archive's format (docs/archive.md): keys, lines, parts, gzip, digests and the manifest,
// round-tripped through the real local R2 of wrangler.toml's LEDGER_ARCHIVE binding.

const DAY = Date.UTC(2026, 11, 4) / 86_400_000;

function entry(id: number, fields: Partial<ExportEntry> = {}): ExportEntry {
  return {
    id,
    createdAtMs: DAY * 86_400_000 + id,
    playerId: "p1",
    operatorId: "op",
    brandId: "b1",
    transactionId: `t${id}`,
    effect: "apply",
    type: "Debit",
    deltaMinor: -150,
    balanceAfterMinor: 10_000 - 150 * id,
    currency: "EUR",
    metadata: '{"round":"r1","amount":1.50}',
    ...fields,
  };
}

describe("archive keys", () => {
  it("lays a day out as ledger/v1/YYYY/MM/DD/ with numbered parts and one manifest", () => {
    expect(dayPrefix(DAY)).toBe("ledger/v1/2026/12/04/");
    expect(partKey(DAY, "entries", 0)).toBe("ledger/v1/2026/12/04/part-00000.ndjson.gz");
    expect(partKey(DAY, "ids", 12)).toBe("ledger/v1/2026/12/04/ids-00012.ndjson.gz");
    expect(partKey(DAY, "cancellations", 3)).toBe(
      "ledger/v1/2026/12/04/cancellations-00003.ndjson.gz",
    );
    expect(manifestKey(DAY)).toBe("ledger/v1/2026/12/04/manifest.json");
    expect(dayPrefix(0)).toBe("ledger/v1/1970/01/01/");
  });
});

describe("archive lines", () => {
  it("an entry line holds every export field and parses back to the same entry, metadata as stored", () => {
    const e = entry(7, { metadata: '{"jackpot":1.10,"é":"\\u00e9"}' });
    const line = entryLine(e);
    expect(Object.keys(JSON.parse(line))).toEqual([
      "entry_id",
      "created_at_ms",
      "player_id",
      "operator_id",
      "brand_id",
      "transaction_id",
      "effect",
      "type",
      "delta_minor",
      "balance_after_minor",
      "currency",
      "metadata",
    ]);
    expect(parseEntryLine(line)).toEqual(e);
    expect(parseEntryLine(entryLine(entry(8, { metadata: null }))).metadata).toBeNull();
  });

  it("refuses a line with a field missing, added, or of the wrong type", () => {
    const good = JSON.parse(entryLine(entry(1)));
    expect(() => parseEntryLine(JSON.stringify({ ...good, extra: 1 }))).toThrow();
    expect(() => parseEntryLine(JSON.stringify({ ...good, delta_minor: 1.5 }))).toThrow();
    const { currency: _currency, ...missing } = good;
    expect(() => parseEntryLine(JSON.stringify(missing))).toThrow();
  });

  it("an id row and a cancellation row keep every column under its SQL name", () => {
    const id = {
      transactionId: "t1",
      playerId: "p1",
      status: "refused" as const,
      type: "Debit" as const,
      amountMinor: 500,
      currency: "EUR",
      batchId: null,
      balanceAfterMinor: null,
      refusalCode: "INSUFFICIENT_FUNDS",
      refusalMessage: "the balance is lower than the debit",
      refusalBalanceMinor: 20,
      brandId: null,
      listedBrands: null,
      everyBrand: 0,
      createdAtMs: 1_790_000_000_000,
    };
    const line = idRowCodec.line(id);
    expect(JSON.parse(line)).toMatchObject({ transaction_id: "t1", refusal_balance_minor: 20 });
    expect(idRowCodec.parse(line)).toEqual(id);
    const cancelled = {
      transactionId: "t2",
      playerId: null,
      outcome: "tombstone" as const,
      batchId: "b9",
      balanceAfterMinor: null,
      createdAtMs: 5,
    };
    expect(cancellationRowCodec.parse(cancellationRowCodec.line(cancelled))).toEqual(cancelled);
    expect(() => idRowCodec.parse(JSON.stringify({ transaction_id: "t1" }))).toThrow();
    expect(() =>
      idRowCodec.parse(line.replace('"amount_minor":500', '"amount_minor":"500"')),
    ).toThrow();
    // A line written before migration 0007 lacks listed_brands: it reads as NULL. A missing NOT
    // NULL column, or a column the table does not have, is still damage.
    const { listed_brands: _listed, ...before0007 } = JSON.parse(line) as Record<string, unknown>;
    expect(idRowCodec.parse(JSON.stringify(before0007))).toEqual(id);
    const { every_brand: _every, ...noEveryBrand } = before0007;
    expect(() => idRowCodec.parse(JSON.stringify(noEveryBrand))).toThrow();
    expect(() => idRowCodec.parse(JSON.stringify({ ...before0007, extra: 1 }))).toThrow();
  });
});

describe("archive parts", () => {
  it("splits at the row bound and at the byte bound, the same way every time", () => {
    const lines = Array.from({ length: 25 }, (_, n) => entryLine(entry(n + 10)));
    expect(splitParts(lines, 10).map((p) => p.length)).toEqual([10, 10, 5]);
    const lineBytes = new TextEncoder().encode(lines[0]).length + 1;
    expect(splitParts(lines, 100, lineBytes * 4).map((p) => p.length)).toEqual([
      4, 4, 4, 4, 4, 4, 1,
    ]);
    expect(splitParts(lines, 10)).toEqual(splitParts(lines, 10));
    // A line larger than the byte bound still goes into a part of its own.
    expect(splitParts(lines.slice(0, 2), 100, 1).map((p) => p.length)).toEqual([1, 1]);
    expect(splitParts([])).toEqual([]);
  });

  it("gzip round-trips a part, and the same text compresses to the same bytes", async () => {
    const text = ndjson(Array.from({ length: 300 }, (_, n) => entryLine(entry(n + 1))));
    const packed = await gzip(text);
    expect(packed.length).toBeLessThan(text.length / 3);
    expect(await gunzip(packed)).toBe(text);
    expect(await sha256Hex(await gzip(text))).toBe(await sha256Hex(packed));
    expect(ndjsonLines(text).map(parseEntryLine)[299]).toEqual(entry(300));
    expect(() => ndjsonLines("{}\n{")).toThrow(/cut off/);
  });

  it("sums deltas per player and currency", () => {
    const totals = new PlayerTotals()
      .add([
        entry(1),
        entry(2, { playerId: "p0", deltaMinor: 300 }),
        entry(3),
        entry(4, { effect: "reverse", deltaMinor: 150 }),
      ])
      .list();
    expect(totals).toEqual([
      { player_id: "p0", currency: "EUR", entries: 1, delta_minor: 300 },
      { player_id: "p1", currency: "EUR", entries: 3, delta_minor: -150 },
    ]);
  });
});

describe("archive manifest and R2", () => {
  it("a part written put-if-absent to R2 is read back with its digest; a second put is refused", async () => {
    const bucket = env.LEDGER_ARCHIVE;
    const text = ndjson([entryLine(entry(1)), entryLine(entry(2))]);
    const packed = await gzip(text);
    const key = partKey(DAY, "entries", 0);
    const put = await bucket.put(key, packed, { onlyIf: { etagDoesNotMatch: "*" } });
    expect(put).not.toBeNull();
    const again = await bucket.put(key, await gzip("other\n"), {
      onlyIf: { etagDoesNotMatch: "*" },
    });
    expect(again).toBeNull();
    const stored = await bucket.get(key);
    const bytes = new Uint8Array(await (stored as R2ObjectBody).arrayBuffer());
    expect(await sha256Hex(bytes)).toBe(await sha256Hex(packed));
    expect(ndjsonLines(await gunzip(bytes)).map(parseEntryLine)).toEqual([entry(1), entry(2)]);

    const manifest: Manifest = {
      format: "edge-wallet-ledger-archive",
      version: 1,
      day: "2026-12-04",
      from_ms: DAY * 86_400_000,
      to_ms: (DAY + 1) * 86_400_000,
      parts: [
        { key, kind: "entries", rows: 2, bytes: packed.length, sha256: await sha256Hex(packed) },
      ],
      players: new PlayerTotals().add([entry(1), entry(2)]).list(),
      daily_report: [],
    };
    expect(parseManifest(manifestText(manifest))).toEqual(manifest);
    expect(() => parseManifest(manifestText({ ...manifest, version: 2 as 1 }))).toThrow();
  });
});

describe("readArchiveConfig", () => {
  it("defaults to 35 days of ledger and 120 days of ids", () => {
    expect(readArchiveConfig({})).toEqual({
      ledgerRetentionDays: 35,
      transactionIdRetentionDays: 120,
    });
    expect(
      readArchiveConfig({ LEDGER_RETENTION_DAYS: "", TRANSACTION_ID_RETENTION_DAYS: "" }),
    ).toEqual({
      ledgerRetentionDays: 35,
      transactionIdRetentionDays: 120,
    });
    expect(readArchiveConfig(env)).toEqual({
      ledgerRetentionDays: 35,
      transactionIdRetentionDays: 120,
    });
    expect(readArchiveConfig({ LEDGER_RETENTION_DAYS: "1" }).ledgerRetentionDays).toBe(1);
  });

  it("fails closed on a value that is not a whole number of days, naming the setting", () => {
    for (const bad of ["0", "-3", "1.5", "abc", "35d"]) {
      expect(() => readArchiveConfig({ LEDGER_RETENTION_DAYS: bad })).toThrow(
        /invalid configuration: LEDGER_RETENTION_DAYS/,
      );
    }
    expect(() =>
      readArchiveConfig({ LEDGER_RETENTION_DAYS: "60", TRANSACTION_ID_RETENTION_DAYS: "30" }),
    ).toThrow(/TRANSACTION_ID_RETENTION_DAYS: must be at least LEDGER_RETENTION_DAYS/);
  });
});
