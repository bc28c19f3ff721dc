// `npm run openapi`: writes openapi.json from the zod schemas. Commit the result; a test fails
// while the checked-in file differs from what the code generates.
import { writeFileSync } from "node:fs";
import { openApiDocument } from "../src/api/openapi";

writeFileSync(
  new URL("../openapi.json", import.meta.url),
  `${JSON.stringify(openApiDocument(), null, 2)}\n`,
);
console.log("wrote openapi.json");
