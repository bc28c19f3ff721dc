// Finds the Chromium-family browser the console test drives, where machines keep one:
// CHROMIUM_PATH if set, else the first of BROWSER_NAMES found as an executable file in a PATH
// directory. PATH is read here, not by a shell, so nothing is spawned and no alias or function
// answers. Names come before directories: a chromium later on the PATH wins over a google-chrome
// earlier on it, as the names are listed in order of preference.
//
// `node scripts/lib/find-browser.mjs` prints the path and exits 0, or prints why none was found
// and how to install one, and exits 1 (.ci/run installs Chromium only then).
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BROWSER_NAMES = [
  "chromium",
  "chromium-browser",
  "google-chrome-stable",
  "google-chrome",
];

export const INSTALL_HINT =
  "Install one (Debian/Ubuntu: sudo apt-get install -y chromium; or Google Chrome), " +
  "or set CHROMIUM_PATH to a Chromium or Chrome executable.";

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * { path } of the browser, or { path: null, message } saying what was tried and how to install
 * one. A CHROMIUM_PATH that is set is the only place looked at: an operator who named a browser
 * wants that one, not another found behind their back.
 */
export function findBrowser(env = process.env) {
  const named = env.CHROMIUM_PATH;
  if (named) {
    if (isExecutableFile(named)) return { path: named, message: null };
    return {
      path: null,
      message: `No browser: CHROMIUM_PATH=${named} is not an executable file. ${INSTALL_HINT}`,
    };
  }
  // Relative or empty PATH entries would look in the current directory: not where a browser lives.
  const dirs = [
    ...new Set((env.PATH ?? "").split(delimiter).filter((dir) => dir !== "" && isAbsolute(dir))),
  ];
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutableFile(path)) return { path, message: null };
    }
  }
  return {
    path: null,
    message:
      `No browser: CHROMIUM_PATH is not set, and none of ${BROWSER_NAMES.join(", ")} is an ` +
      `executable file in the PATH directories (${dirs.join(", ") || "PATH is empty"}). ${INSTALL_HINT}`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = findBrowser();
  if (found.path) {
    console.log(found.path);
  } else {
    console.error(found.message);
    process.exit(1);
  }
}
