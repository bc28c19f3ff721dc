import { formatMinor, type MinorUnits } from "../money";
import type { PlayerRow } from "../ledger/schema";
import type { CancelAnswer } from "../wallet/cancel";
import type { WalletAnswer } from "../wallet/player-wallet";
import { ApiError } from "./errors";
import { decimalNumber, parseStoredJson } from "./json";

/** What a ledger entry did, as the admin API and the export write it (exact money, metadata as kept). */
export function entryFigures(entry: {
  transactionId: string;
  effect: string;
  type: string;
  deltaMinor: MinorUnits;
  balanceAfterMinor: MinorUnits;
  currency: string;
  metadata: string | null;
}) {
  return {
    transaction_id: entry.transactionId,
    effect: entry.effect,
    type: entry.type,
    amount: moneyNumber(entry.deltaMinor, entry.currency),
    balance_after: moneyNumber(entry.balanceAfterMinor, entry.currency),
    currency: entry.currency,
    metadata: entry.metadata === null ? null : parseStoredJson(entry.metadata),
  };
}

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

/** The balance of a successful answer from a player's object; a refusal or fault becomes its API error. */
export function settled(answer: WalletAnswer): { balanceMinor: MinorUnits; currency: string } {
  switch (answer.kind) {
    case "ok":
      return answer;
    case "unavailable":
      throw new ApiError("UNAVAILABLE", answer.message);
    case "refused": {
      const { code, message, balanceMinor } = answer.refusal;
      const extra =
        balanceMinor !== undefined && answer.currency !== null
          ? { balance: moneyNumber(balanceMinor, answer.currency) }
          : {};
      throw new ApiError(code, message, extra);
    }
  }
}

/** The spec answers cancels with the balance as a decimal string. */
export function cancelBalanceText(answer: CancelAnswer): string {
  if (answer.kind === "orphan") return "0";
  const { balanceMinor, currency } = settled(answer);
  return formatMinor(balanceMinor, currency);
}
