// `npm run openapi`: writes public/openapi.json from the zod schemas; Workers Static Assets serve it
// at GET /openapi.json. Commit the result; a test fails while it differs from what the code generates.
import { writeFileSync } from "node:fs";
import { openApiDocument } from "../src/api/openapi";

writeFileSync(
  new URL("../public/openapi.json", import.meta.url),
  `${JSON.stringify(openApiDocument(), null, 2)}\n`,
);
console.log("wrote public/openapi.json");
