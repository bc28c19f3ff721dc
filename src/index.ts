import type { RequestLog } from "./api/request";
import { runCron } from "./jobs/nightly";
import { d1Of } from "./ledger/d1-round-trip";
import { router } from "./router";

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

  // The Cron Triggers of wrangler.toml, each running its jobs (jobs/nightly.ts). The jobs catch and log their own failures (jobs/nightly.ts),
  // so one failing never stops the next; waitUntil keeps the invocation alive until all are done.
  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): void {
    ctx.waitUntil(runCron(env, controller.cron, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
