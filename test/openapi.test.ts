import { describe, expect, it } from "vitest";
import checkedIn from "../openapi.json";
import { openApiDocument } from "../src/api/openapi";
import { AuthenticateResponse, ErrorResponse, TransactionResponse } from "../src/api/schemas";
import { newPlayer, transact, wallet } from "./helpers";

describe("OpenAPI document", () => {
  it("the checked-in openapi.json is what the schemas generate (run `npm run openapi` if not)", () => {
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it("is served at GET /openapi.json without a signature", async () => {
    const answer = await wallet("GET", "/openapi.json", undefined, { signature: null });
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe("3.1.0");
    expect(Object.keys(answer.body.paths)).toContain("/wallet/transaction/batch");
  });

  it("describes what the wallet really answers", async () => {
    const player = await newPlayer();
    const auth = await wallet("POST", "/wallet/authenticate", { operator_id: "thrilltech", brand_id: "brand1", player_token: player.token, currency: "EUR" });
    expect(AuthenticateResponse.strict().safeParse(auth.body).success).toBe(true);
    expect(TransactionResponse.strict().safeParse((await transact(player.playerId)).body).success).toBe(true);
    expect(ErrorResponse.strict().safeParse((await transact(player.playerId, { amount: "99999" })).body).success).toBe(true);
  });
});
