import { formatMinor, type MinorUnits } from "../money";
import type { PlayerRow } from "../ledger/schema";
import { decimalNumber } from "./json";

/** A balance or amount as the JSON number the spec shows, with the currency's exact decimals. */
export function moneyNumber(minor: MinorUnits, currency: string): unknown {
  return decimalNumber(formatMinor(minor, currency));
}

/** The profile fields of the authenticate response; what the wallet does not hold is null. */
export function playerProfile(player: PlayerRow) {
  return {
    nickname: player.nickname,
    gender: player.gender,
    country: player.country,
    date_of_birth: player.dateOfBirth,
    jurisdiction: player.jurisdiction,
    segments: player.segments,
  };
}
