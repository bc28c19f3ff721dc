import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";

describe("health", () => {
  it("answers ok without a signature", async () => {
    const response = await SELF.fetch("http://wallet.test/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("answers unknown routes with a 404 in the error format", async () => {
    const response = await SELF.fetch("http://wallet.test/nowhere");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "NOT_FOUND" });
  });
});
