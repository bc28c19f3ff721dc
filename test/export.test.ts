import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { ledgerDb } from "../src/ledger/db";
import {
  cursorAt,
  EXPORT_PAGE_ENTRIES,
  type ExportEntry,
  exportPageQuery,
  exportPages,
} from "../src/ledger/export";
import worker from "../src/index";
import { decimal } from "./decimal";
import { admin, expectErrorShape, uniqueId, wallet } from "./helpers";
import { collectPages, pageBudget } from "./pages";

// GET /admin/ledger/export: every exported line or row is compared with the ledger entry D1 holds,
// over more entries than one page, with ids and metadata that hold commas, quotes and line breaks.

const HEADER = [
  "entry_id",
  "created_at",
  "player_id",
  "operator_id",
  "brand_id",
  "transaction_id",
  "effect",
  "type",
  "amount",
  "balance_after",
  "currency",
  "metadata",
];

interface Player {
  id: string;
  operatorId: string;
  brandId: string;
  currency: string;
}

interface Entry {
  id: number;
  player_id: string;
  transaction_id: string;
  effect: string;
  type: string;
  delta_minor: number;
  balance_after_minor: number;
  currency: string;
  metadata: string | null;
  created_at_ms: number;
}

/** The fields of an entry as the contract lists them, in its order, as CSV text. */
function csvFields(entry: Entry, owner: Player): string[] {
  return [
    String(entry.id),
    new Date(entry.created_at_ms).toISOString(),
    entry.player_id,
    owner.operatorId,
    owner.brandId,
    entry.transaction_id,
    entry.effect,
    entry.type,
    decimal(entry.delta_minor, entry.currency),
    decimal(entry.balance_after_minor, entry.currency),
    entry.currency,
    entry.metadata ?? "",
  ];
}

/**
 * The NDJSON line of an entry: the same fields, amounts as exact JSON numbers, metadata as the
 * object whose JSON text the ledger stored (written back byte for byte).
 */
function ndjsonLine(entry: Entry, owner: Player): string {
  const fields = csvFields(entry, owner);
  const line = JSON.stringify({
    entry_id: entry.id,
    ...Object.fromEntries(HEADER.slice(1).map((name, i) => [name, fields[i + 1]])),
    amount: JSON.rawJSON(decimal(entry.delta_minor, entry.currency)),
    balance_after: JSON.rawJSON(decimal(entry.balance_after_minor, entry.currency)),
    metadata: entry.metadata === null ? null : METADATA_MARK,
  });
  return entry.metadata === null
    ? line
    : line.replace(`"${METADATA_MARK}"`, () => entry.metadata ?? "");
}

// Stands in for the metadata object while the rest of the line is written.
const METADATA_MARK = `metadata-${crypto.randomUUID()}`;

/**
 * A strict RFC 4180 reader: CRLF ends a record, a quoted field may hold anything with its quotes
 * doubled, and anything else (a bare CR or LF, a quote inside an unquoted field, text after a
 * closing quote, a last record without CRLF) is an error.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"' && field === "") {
      let end = i + 1;
      for (;;) {
        const close = text.indexOf('"', end);
        if (close === -1) throw new Error(`an unterminated quote at ${i}`);
        if (text[close + 1] === '"') {
          field += text.slice(end, close + 1);
          end = close + 2;
          continue;
        }
        field += text.slice(end, close);
        i = close + 1;
        break;
      }
      if (i < text.length && text[i] !== "," && text[i] !== "\r")
        throw new Error(`text after a closing quote at ${i}`);
      continue;
    }
    const char = text[i];
    if (char === ",") {
      row.push(field);
      field = "";
      i += 1;
    } else if (char === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else if (char === "\r" || char === "\n" || char === '"') {
      throw new Error(`a bare ${JSON.stringify(char)} outside quotes at ${i}`);
    } else {
      field += char;
      i += 1;
    }
  }
  if (field !== "" || row.length > 0) throw new Error("the last record is not ended by CRLF");
  return rows;
}

const exportOf = (query: string) => admin("GET", `/admin/ledger/export?${query}`);
const iso = (ms: number) => new Date(ms).toISOString();

describe("GET /admin/ledger/export", () => {
  const tag = uniqueId("x");
  // Ids and metadata are the callers' own text: commas, quotes, CR, LF and non-ASCII included.
  const players: Player[] = [
    {
      id: `pl,"weird"\nid ${tag}`,
      operatorId: `op,"one"`,
      brandId: `brand\r\nA`,
      currency: "EUR",
    },
    { id: `plJ_${tag}`, operatorId: "opTwo", brandId: "brandJ", currency: "JPY" },
    { id: `plE_${tag}`, operatorId: "opTwo", brandId: "brand€", currency: "EUR" },
  ];
  const owners = new Map(players.map((p) => [p.id, p]));
  const owner = (entry: Entry): Player => {
    const found = owners.get(entry.player_id);
    if (!found) throw new Error(`an entry of an unknown player ${entry.player_id}`);
    return found;
  };
  // The range: 100 ms of 2022, into which the fixture's entries are moved (see below).
  const FROM_MS = Date.parse("2022-05-10T00:00:00.000Z");
  const TO_MS = FROM_MS + 100;
  let entries: Entry[] = [];
  let inRange: Entry[] = [];

  beforeAll(async () => {
    for (const [i, p] of players.entries()) {
      const created = await admin("POST", "/admin/players", {
        player_id: p.id,
        operator_id: p.operatorId,
        brand_id: p.brandId,
        currency: p.currency,
        balance: p.currency === "JPY" ? "1000000" : `${1000 + i}.00`,
      });
      expect(created.status).toBe(201);
    }
    const transactionIds: string[] = [];
    for (let batch = 0; batch < 3; batch++) {
      const items = Array.from({ length: 200 }, (_, i) => {
        const p = players[i % players.length] ?? players[0];
        if (!p) throw new Error("players");
        const transactionId = i % 5 === 0 ? `tx,${batch}/${i} "q"\r\n${tag}` : uniqueId("xtx");
        transactionIds.push(transactionId);
        return {
          player_id: p.id,
          transaction_id: transactionId,
          transaction_type: i % 11 === 0 ? "None" : i % 2 === 0 ? "Debit" : "Credit",
          provider_id: "thrillpots",
          amount:
            i % 11 === 0 ? "0" : p.currency === "JPY" ? String(100 + i) : `0.${10 + (i % 90)}`,
          currency: p.currency,
          ...(i % 4 === 0
            ? {
                round_id: `r,${i}`,
                note: 'he said "hi"\r\nand left',
                jackpot: { amount: JSON.rawJSON("1.50"), name: "pot €😀" },
              }
            : {}),
        };
      });
      const answer = await wallet("POST", "/wallet/transaction/batch", {
        batch_id: uniqueId("xb"),
        transactions: items,
      });
      expect(answer.status).toBe(200);
      expect(answer.body.results.every((r: { status: string }) => r.status === "OK")).toBe(true);
    }
    // Reversals: entries without metadata.
    const cancels = await wallet("DELETE", "/wallet/transaction/batch", {
      transactions: transactionIds.slice(0, 40).map((id) => ({ transaction_id: id })),
    });
    expect(cancels.status).toBe(200);

    const rows = await env.DB.prepare(
      `SELECT * FROM ledger_entries WHERE player_id IN (?, ?, ?) ORDER BY id`,
    )
      .bind(...players.map((p) => p.id))
      .all<Entry>();
    // The wallet stamps entries with its own clock, and one group commit stamps many alike. To
    // know the range exactly, each entry is moved into 100 ms of 2022, several to a millisecond,
    // in an order that is not the order of ids; the last two just outside the range.
    entries = rows.results.map((entry, i, all) => ({
      ...entry,
      created_at_ms:
        i === all.length - 1
          ? TO_MS
          : i === all.length - 2
            ? FROM_MS - 1
            : FROM_MS + ((i * 37) % 100),
    }));
    await env.DB.batch(
      entries.map((entry) =>
        env.DB.prepare("UPDATE ledger_entries SET created_at_ms = ? WHERE id = ?").bind(
          entry.created_at_ms,
          entry.id,
        ),
      ),
    );
    inRange = entries
      .filter((e) => e.created_at_ms >= FROM_MS && e.created_at_ms < TO_MS)
      .sort((a, b) => a.created_at_ms - b.created_at_ms || a.id - b.id);
    expect(inRange.length).toBeGreaterThan(EXPORT_PAGE_ENTRIES);
    expect(inRange.length).toBe(entries.length - 2);
    // Many calls: more than the default hook timeout on a busy machine.
  }, 60_000);

  it("streams every entry of the range as NDJSON, oldest first, each line the ledger's entry", async () => {
    const answer = await exportOf(`from=${iso(FROM_MS)}&to=${iso(TO_MS)}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    const lines = answer.text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.length).toBe(inRange.length);
    for (const [i, entry] of inRange.entries()) {
      expect(lines[i]).toBe(ndjsonLine(entry, owner(entry)));
    }
    // The fixture holds what it claims to.
    expect(inRange.some((e) => e.effect === "reverse" && e.metadata === null)).toBe(true);
    expect(inRange.some((e) => e.metadata?.includes('"jackpot":{"amount":1.50'))).toBe(true);
    expect(answer.text).toContain('"metadata":null');
  });

  it("writes CSV with a header row, and every row parses back (RFC 4180) to the ledger's fields", async () => {
    const answer = await exportOf(`from=${iso(FROM_MS)}&to=${iso(TO_MS)}&format=csv`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(answer.text);
    expect(header).toEqual(HEADER);
    expect(rows.length).toBe(inRange.length);
    for (const [i, entry] of inRange.entries()) {
      expect(rows[i]).toEqual(csvFields(entry, owner(entry)));
    }
    // The awkward ids really are in it, quoted.
    expect(answer.text).toContain(`"pl,""weird""\nid ${tag}"`);
    expect(answer.text).toContain(`"brand\r\nA"`);
  });

  it("reads D1 one page at a time: the body arrives a page per chunk", async () => {
    const response = await worker.fetch(
      new Request(`http://wallet.test/admin/ledger/export?from=${iso(FROM_MS)}&to=${iso(TO_MS)}`, {
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }),
      env,
      createExecutionContext(),
    );
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    // Lines per chunk, a chunk a page: within the page budget, or a repeating pager fails here.
    const chunkLines = await collectPages(
      async () => {
        const { done, value } = await reader.read();
        return done
          ? { items: [], next: null }
          : { items: [decoder.decode(value).split("\n").length - 1], next: true };
      },
      pageBudget(inRange.length, EXPORT_PAGE_ENTRIES),
    );
    const full = Math.floor(inRange.length / EXPORT_PAGE_ENTRIES);
    expect(chunkLines).toEqual([
      ...Array.from({ length: full }, () => EXPORT_PAGE_ENTRIES),
      inRange.length - full * EXPORT_PAGE_ENTRIES,
    ]);
  });

  it("pages by (created_at_ms, id): small pages that cut through a millisecond lose and repeat nothing", async () => {
    const db = ledgerDb(env.DB);
    for (const size of [1, 7, 50]) {
      const pages = exportPages(db, FROM_MS, TO_MS, size);
      const entries = await collectPages(
        async () => {
          const page = await pages.next();
          if (!page.done) expect(page.value.length).toBeLessThanOrEqual(size);
          return page.done ? { items: [], next: null } : { items: page.value, next: true };
        },
        pageBudget(inRange.length, size),
      );
      expect(entries.map((entry: ExportEntry) => entry.id)).toEqual(inRange.map((e) => e.id));
    }
  });

  it("from is inclusive and to exclusive, to the millisecond; an offset or a date names the same instant", async () => {
    const lineCount = async (query: string) => {
      const answer = await exportOf(query);
      expect(answer.status).toBe(200);
      return answer.text.split("\n").length - 1;
    };
    const stampedAt = (t: number) => inRange.filter((e) => e.created_at_ms === t).length;
    const earlierThan = (t: number) => inRange.filter((e) => e.created_at_ms < t).length;
    // A millisecond inside the range that several entries share: it belongs to the second half.
    const middle = FROM_MS + 50;
    expect(stampedAt(middle)).toBeGreaterThan(1);
    expect(await lineCount(`from=${iso(FROM_MS)}&to=${iso(middle)}`)).toBe(earlierThan(middle));
    expect(await lineCount(`from=${iso(middle)}&to=${iso(TO_MS)}`)).toBe(
      inRange.length - earlierThan(middle),
    );
    expect(await lineCount(`from=${iso(middle)}&to=${iso(middle + 1)}`)).toBe(stampedAt(middle));
    // The entry stamped exactly `to` and the one a millisecond before `from` are left out.
    expect(await lineCount(`from=${iso(FROM_MS - 1)}&to=${iso(TO_MS + 1)}`)).toBe(
      inRange.length + 2,
    );
    const utc = await exportOf(`from=${iso(FROM_MS)}&to=${iso(TO_MS)}`);
    const offset = await exportOf("from=2022-05-10T02:00:00%2B02:00&to=2022-05-10T00:00:00.100Z");
    const date = await exportOf("from=2022-05-10&to=2022-05-10T00:00:00.100-00:00");
    expect(offset.text).toBe(utc.text);
    expect(date.text).toBe(utc.text);
  });

  it("a D1 failure before the first page answers 500; one after it cuts the stream off, never ends it", async () => {
    // D1 that answers `reads` queries, then fails: the ledger read dying under the export.
    const failingAfter = (reads: number): D1Database => {
      let left = reads;
      return new Proxy(env.DB, {
        get(target, key) {
          if (key === "prepare")
            return (query: string) => {
              left -= 1;
              if (left < 0) throw new Error("injected: D1 is gone");
              return target.prepare(query);
            };
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    };
    const path = `/admin/ledger/export?from=${iso(FROM_MS)}&to=${iso(TO_MS)}`;
    expectErrorShape(
      await admin("GET", path, undefined, env.ADMIN_TOKEN, { DB: failingAfter(0) }),
      500,
      "INTERNAL_ERROR",
    );

    const response = await worker.fetch(
      new Request(`http://wallet.test${path}`, {
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }),
      // Two reads answer: the archive's days in the range (docs/archive.md), then the first page.
      { ...env, DB: failingAfter(2) },
      createExecutionContext(),
    );
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).split("\n").length - 1).toBe(EXPORT_PAGE_ENTRIES);
    await expect(reader.read()).rejects.toThrow(/D1 is gone/);
  });

  it("an empty range answers no lines, or the CSV header alone", async () => {
    const empty = await exportOf("from=2000-01-01T00:00:00Z&to=2000-01-01T00:00:00Z");
    expect(empty.status).toBe(200);
    expect(empty.text).toBe("");
    const csv = await exportOf("from=1999-01-01&to=2000-01-01&format=csv");
    expect(csv.text).toBe(`${HEADER.join(",")}\r\n`);
  });

  it("refuses a from or to that is not an ISO 8601 instant, finer than ms, or to before from, and an unknown format", async () => {
    for (const query of [
      "",
      "from=2022-05-10T00:00:00Z",
      "to=2022-05-10T00:00:00Z",
      "from=yesterday&to=2022-05-10T00:00:00Z",
      "from=2022-05-10T00:00:00&to=2022-05-11T00:00:00Z",
      "from=2022-02-30T00:00:00Z&to=2022-05-11T00:00:00Z",
      "from=2022-05-10T00:00:00.0001Z&to=2022-05-11T00:00:00Z",
      "from=1652140800000&to=1652227200000",
      "from=2022-05-11T00:00:00Z&to=2022-05-10T00:00:00Z",
      "from=2022-05-10T00:00:00Z&to=2022-05-11T00:00:00Z&format=xml",
      "from=2022-05-10T00:00:00Z&to=2022-05-11T00:00:00Z&format=csv&format=csv",
    ]) {
      expectErrorShape(await exportOf(query), 400, "INVALID_REQUEST");
    }
  });

  it("needs the admin token", async () => {
    expectErrorShape(
      await admin(
        "GET",
        `/admin/ledger/export?from=${iso(FROM_MS)}&to=${iso(TO_MS)}`,
        undefined,
        "",
      ),
      401,
      "UNAUTHORIZED",
    );
  });

  it("reads each page through the time index, in its order", async () => {
    const plan = await ledgerDb(env.DB).all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN ${exportPageQuery(cursorAt(FROM_MS), TO_MS, EXPORT_PAGE_ENTRIES)}`,
    );
    const steps = plan.map((step) => step.detail);
    expect(steps.some((s) => s.includes("USING INDEX ledger_entries_created_idx"))).toBe(true);
    // No sort of the whole range: the index gives the order.
    expect(steps.some((s) => s.includes("TEMP B-TREE"))).toBe(false);
  });
});
