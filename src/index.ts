import type { RequestLog } from "./api/request";
import { d1Of } from "./ledger/d1-round-trip";
import { router } from "./router";
import { runArchive } from "./wallet/archive-job";

export { PlayerWallet } from "./wallet/player-wallet";

// A caller's request id is echoed only if it is short and plain, so it cannot forge log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const startedMs = Date.now();
    const given = request.headers.get("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const log: RequestLog = {};
    // Every handler below reads env.DB: behind the bench's modelled round trip, when one is set.
    const db = d1Of(env);
    const response = await router.fetch(
      request,
      db === env.DB ? env : { ...env, DB: db },
      ctx,
      log,
    );
    // itty-router leaves the pattern of the route that answered on the request.
    const route: unknown = Reflect.get(request, "route");
    response.headers.set("x-request-id", requestId);
    // One JSON line per request: enough to reconstruct who called what and how it ended.
    console.log(
      JSON.stringify({
        request_id: requestId,
        method: request.method,
        route: typeof route === "string" ? route : new URL(request.url).pathname,
        ...log,
        outcome: log.outcome ?? (response.ok ? "OK" : String(response.status)),
        status: response.status,
        duration_ms: Date.now() - startedMs,
      }),
    );
    return response;
  },

  /**
   * The Cron Trigger ([triggers] in wrangler.toml): the archive job, as of the event's scheduled
   * time (so a test, or `wrangler dev --test-scheduled`'s /__scheduled?time=, runs it as of any
   * time). It never throws: its outcome is its log line and its row in archive_runs.
   */
  async scheduled(
    controller: ScheduledController,
    env: Env,
    _ctx: ExecutionContext,
  ): Promise<void> {
    const db = d1Of(env);
    await runArchive(db === env.DB ? env : { ...env, DB: db }, controller.scheduledTime, "cron");
  },
} satisfies ExportedHandler<Env>;
