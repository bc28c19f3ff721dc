import type { IRequest } from "itty-router";
import type { BrandScope } from "../auth/brands";
import type { Config } from "../config";

/**
 * What the one log line of a request says beyond method, status and time. Handlers fill in the
 * ids they learn; never a secret, token, signature or body.
 */
export interface RequestLog {
  /** The brand whose key signed a wallet call, or "(default)" for WALLET_HMAC_SECRET; never the key. */
  signed_by?: string;
  player_id?: string;
  transaction_id?: string;
  batch_id?: string;
  items?: number;
  /** A cancel by batch_id: items it reversed, and items of the batch still applied after it. */
  reversed?: number;
  remaining?: number;
  /** "OK", an error code, or for batches the count of each item status. */
  outcome?: string;
}

/**
 * A request after the router's middleware: raw body bytes read (capped), settings parsed, log
 * attached; for a wallet call also the brands its key may reach (set once the signature checked).
 */
export type ApiRequest = IRequest & {
  bodyBytes: Uint8Array;
  config: Config;
  log: RequestLog;
  scope: BrandScope;
};
