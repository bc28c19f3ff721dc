import type { IRequest } from "itty-router";
import type { Config, Env } from "../config";

/** A request after the router's middleware: raw body bytes read (capped) and settings parsed. */
export type ApiRequest = IRequest & { bodyBytes: Uint8Array; config: Config };

export type Handler = (request: ApiRequest, env: Env) => Promise<Response>;
