// The layers of src/, enforced by `npm run lint:deps` (dependency-cruiser). Imports point down:
//   index → router → api → jobs → wallet → ledger, and money, auth and config below all of them.
// jobs/ holds what runs without a request (the nightly Cron Trigger), which the admin API can also
// start on demand: so it sits under api and over the wallet and ledger it works on.
// A layer may import any layer below it, never one above; no module is part of a cycle; and one
// API handler module never imports another (they share the helper modules of api/ instead).
// Type-only imports count: a type names the module it belongs to as much as a value does.

const LAYERS = {
  index: "^src/index\\.ts$",
  router: "^src/router\\.ts$",
  api: "^src/api/",
  jobs: "^src/jobs/",
  wallet: "^src/wallet/",
  ledger: "^src/ledger/",
  base: "^src/(money|config)\\.ts$|^src/auth/",
};

/** The endpoint handlers of api/; every other module there is a helper they share. */
const HANDLERS = "^src/api/(admin|batch|reports|transaction|transfers|wallet)\\.ts$";

const upward = (name, from, above) => ({
  name,
  severity: "error",
  comment: `${name}: imports point down (index → router → api → jobs → wallet → ledger → money, auth, config)`,
  from: { path: from },
  to: { path: above },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "a cycle has no bottom layer",
      from: {},
      to: { circular: true },
    },
    upward("router-not-up", LAYERS.router, LAYERS.index),
    upward("api-not-up", LAYERS.api, [LAYERS.index, LAYERS.router]),
    upward("jobs-not-up", LAYERS.jobs, [LAYERS.index, LAYERS.router, LAYERS.api]),
    upward("wallet-not-up", LAYERS.wallet, [LAYERS.index, LAYERS.router, LAYERS.api, LAYERS.jobs]),
    upward("ledger-not-up", LAYERS.ledger, [
      LAYERS.index,
      LAYERS.router,
      LAYERS.api,
      LAYERS.jobs,
      LAYERS.wallet,
    ]),
    upward("base-not-up", LAYERS.base, [
      LAYERS.index,
      LAYERS.router,
      LAYERS.api,
      LAYERS.jobs,
      LAYERS.wallet,
      LAYERS.ledger,
    ]),
    {
      name: "no-handler-to-handler",
      severity: "error",
      comment:
        "an API handler module shares helpers (json, errors, schemas, views, operations), never another handler",
      from: { path: HANDLERS },
      to: { path: HANDLERS },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "every import resolves (a typo would hide a dependency from these rules)",
      from: {},
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
