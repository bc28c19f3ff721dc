import { describe, expect, it } from "vitest";
import checkedIn from "../public/openapi.json";
import { openApiDocument } from "../src/api/openapi";
import { router } from "../src/router";
import { AuthenticateResponse, ErrorResponse, TransactionResponse } from "../src/api/schemas";
import { newPlayer, transact, wallet } from "./helpers";
import { checkAgainstOpenApi } from "./openapi-check";

describe("OpenAPI document", () => {
  it("the checked-in openapi.json is what the schemas generate (run `npm run openapi` if not)", () => {
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it("describes every route the router serves, and no other", () => {
    // ALL routes are the /wallet/* and /admin/* middleware and the catch-all 404, not operations.
    // The document itself is a static asset (public/openapi.json), served before the Worker runs.
    const served = router.routes
      .filter(([method]) => method !== "ALL")
      .map(([method, , , path]) => `${method} ${(path ?? "").replace(/:(\w+)/g, "{$1}")}`)
      .concat("GET /openapi.json");
    const documented = Object.entries(checkedIn.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
  });

  it("names every operation, and asks no credentials of /health and /openapi.json", () => {
    const operations = Object.values(checkedIn.paths).flatMap(
      (methods) => Object.values(methods) as { operationId?: string; security?: unknown[] }[],
    );
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === "string")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([
      checkedIn.paths["/health"].get.security,
      checkedIn.paths["/openapi.json"].get.security,
    ]).toEqual([[], []]);
  });

  it("the check every answer of the suite goes through fails on an undeclared status or a body off its schema", () => {
    const at = (path: string) => `http://wallet.test${path}`;
    expect(() => checkAgainstOpenApi("POST", at("/admin/players"), undefined, 200, "{}")).toThrow(
      /does not declare 200/,
    );
    expect(() =>
      checkAgainstOpenApi(
        "GET",
        at("/wallet/balance?player_id=p"),
        undefined,
        200,
        '{"balance":"1.00"}',
      ),
    ).toThrow(/does not allow/);
    expect(() =>
      checkAgainstOpenApi(
        "GET",
        at("/admin/players/p1"),
        undefined,
        401,
        '{"error":{"code":"UNAUTHORIZED","message":""}}',
      ),
    ).toThrow(/does not allow/);
    // A request the wallet accepted must be one the document accepts: a bare array for a batch.
    const item = {
      player_id: "p",
      transaction_id: "t",
      transaction_type: "Debit",
      provider_id: "x",
      amount: 1,
    };
    expect(() =>
      checkAgainstOpenApi(
        "POST",
        at("/wallet/transaction/batch"),
        JSON.stringify([item]),
        200,
        '{"results":[]}',
      ),
    ).not.toThrow();
    expect(() =>
      checkAgainstOpenApi(
        "POST",
        at("/wallet/transaction/batch"),
        JSON.stringify({ items: [item] }),
        200,
        '{"results":[]}',
      ),
    ).toThrow(/request it accepted/);
    // What no operation describes (the catch-all 404) must still be the error shape.
    expect(() =>
      checkAgainstOpenApi(
        "PUT",
        at("/nowhere"),
        undefined,
        404,
        '{"code":"NOT_FOUND","message":"no such route"}',
      ),
    ).not.toThrow();
    expect(() => checkAgainstOpenApi("PUT", at("/nowhere"), undefined, 404, "{}")).toThrow(
      /no such operation/,
    );
  });

  it("the check holds NDJSON to its line schema, line by line, and refuses a media type the document does not declare", () => {
    const exportUrl = "http://wallet.test/admin/ledger/export?from=2026-01-01&to=2026-01-02";
    const ndjson = "application/x-ndjson; charset=utf-8";
    const line = {
      entry_id: 1,
      created_at: "2026-01-01T00:00:00.000Z",
      player_id: "p",
      operator_id: "o",
      brand_id: "b",
      transaction_id: "t",
      effect: "apply",
      type: "Debit",
      amount: -1.5,
      balance_after: 8.5,
      currency: "EUR",
      metadata: null,
    };
    const lines = (...objects: object[]) => objects.map((o) => `${JSON.stringify(o)}\n`).join("");
    const check =
      (text: string, type: string | null = ndjson) =>
      () =>
        checkAgainstOpenApi("GET", exportUrl, undefined, 200, text, type);
    expect(check(lines(line, line))).not.toThrow();
    expect(check("")).not.toThrow();
    expect(check("entry_id,created_at\r\n", "text/csv; charset=utf-8")).not.toThrow();
    expect(check(lines(line, { ...line, effect: "undo" }))).toThrow(/line 2/);
    expect(check(JSON.stringify(line))).toThrow(/not ended/);
    expect(check(lines(line), "text/plain")).toThrow(/does not declare text\/plain/);
    expect(check(lines(line), "application/json")).toThrow(/no JSON body/);
  });

  it("describes what the wallet really answers", async () => {
    const player = await newPlayer();
    const auth = await wallet("POST", "/wallet/authenticate", {
      operator_id: "thrilltech",
      brand_id: "brand1",
      player_token: player.token,
      currency: "EUR",
    });
    expect(AuthenticateResponse.strict().safeParse(auth.body).success).toBe(true);
    expect(
      TransactionResponse.strict().safeParse((await transact(player.playerId)).body).success,
    ).toBe(true);
    expect(
      ErrorResponse.strict().safeParse((await transact(player.playerId, { amount: "99999" })).body)
        .success,
    ).toBe(true);
  });
});
