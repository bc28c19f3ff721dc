// The layers of src/, enforced by `npm run lint:deps` (dependency-cruiser). Imports point down:
//   index → router → api → wallet → ledger, and money, auth and config below all of them.
// A layer may import any layer below it, never one above; no module is part of a cycle; and one
// API handler module never imports another (they share the helper modules of api/ instead).
// Type-only imports count: a type names the module it belongs to as much as a value does.

const LAYERS = {
  index: "^src/index\\.ts$",
  router: "^src/router\\.ts$",
  api: "^src/api/",
  wallet: "^src/wallet/",
  ledger: "^src/ledger/",
  base: "^src/(money|config)\\.ts$|^src/auth/",
};

/** The endpoint handlers of api/; every other module there is a helper they share. */
const HANDLERS = "^src/api/(admin|batch|transaction|transfers|wallet)\\.ts$";

const upward = (name, from, above) => ({
  name,
  severity: "error",
  comment: `${name}: imports point down (index → router → api → wallet → ledger → money, auth, config)`,
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
    upward("wallet-not-up", LAYERS.wallet, [LAYERS.index, LAYERS.router, LAYERS.api]),
    upward("ledger-not-up", LAYERS.ledger, [
      LAYERS.index,
      LAYERS.router,
      LAYERS.api,
      LAYERS.wallet,
    ]),
    upward("base-not-up", LAYERS.base, [
      LAYERS.index,
      LAYERS.router,
      LAYERS.api,
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
