// Reads .dev.vars (KEY=VALUE lines, optional quotes): the local secrets `npm start` uses.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./local-wallet.mjs";

export const DEV_VARS_PATH = join(REPO_ROOT, ".dev.vars");

export function readDevVars(path = DEV_VARS_PATH) {
  const vars = {};
  if (!existsSync(path)) return vars;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}
