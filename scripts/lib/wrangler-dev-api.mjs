// `wrangler dev` through wrangler's own API, with no inspector attached to workerd: what
// startLocalWallet({ inspector: false }) runs for the bench (bench/README.md, "What the bench
// measures"). The CLI always attaches one, and through it every console.log becomes a V8
// inspector event that wrangler receives and prints: on a wallet that logs one line per request
// that cost ~0.9 ms of CPU per request, which no deployment pays. Logs still reach stdout.
//
// Takes the CLI's own flags for what startLocalWallet sets: --config, --ip, --port, --persist-to,
// --var NAME:VALUE (repeatable). The file's name has "wrangler" in it, so the bench's serverPids()
// finds this process, with its workerd, as it finds the CLI.
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    ip: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    "persist-to": { type: "string" },
    var: { type: "string", multiple: true, default: [] },
  },
});

const bindings = Object.fromEntries(
  values.var.map((pair) => {
    const colon = pair.indexOf(":");
    return [pair.slice(0, colon), { type: "plain_text", value: pair.slice(colon + 1) }];
  }),
);

const worker = await unstable_startWorker({
  config: values.config,
  bindings,
  dev: {
    server: { hostname: values.ip, port: Number(values.port) },
    inspector: false,
    persist: values["persist-to"],
    watch: false,
  },
});
await worker.ready;
console.log(`Ready on ${await worker.url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await worker.dispose();
    process.exit(0);
  });
}
