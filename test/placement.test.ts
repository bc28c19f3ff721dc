import { describe, expect, it } from "vitest";
import { playerLocationHint, PLAYER_LOCATION_HINTS } from "../src/config";
import { balanceText, newPlayer } from "./helpers";

describe("placement of player objects (PLAYER_LOCATION_HINT)", () => {
  it("takes each documented hint, and no hint when unset or empty", () => {
    for (const hint of PLAYER_LOCATION_HINTS)
      expect(playerLocationHint({ PLAYER_LOCATION_HINT: hint })).toBe(hint);
    expect(playerLocationHint({})).toBeUndefined();
    expect(playerLocationHint({ PLAYER_LOCATION_HINT: "" })).toBeUndefined();
  });

  it("refuses a region that is not a location hint", () => {
    for (const bad of ["eu", "WEUR", "us-east-1"])
      expect(() => playerLocationHint({ PLAYER_LOCATION_HINT: bad })).toThrow(
        /PLAYER_LOCATION_HINT/,
      );
  });

  it("the wallet answers through an object reached with no hint set (the default)", async () => {
    const { playerId } = await newPlayer({ balance: "5.00" });
    expect(await balanceText(playerId)).toBe("5.00");
  });
});
