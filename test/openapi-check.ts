import { Validator } from "@cfworker/json-schema";
import document from "../public/openapi.json";

// Every answer the test suite receives is checked against the checked-in openapi.json: its status
// must be declared for that path and method, and its body must match the declared schema. So the
// document cannot drift from the traffic without a test failing. @cfworker/json-schema because it
// runs inside workerd, which has no eval or new Function (what ajv compiles with).

type Schema = Record<string, unknown>;
interface Operation {
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, { content?: Record<string, { schema: Schema } | undefined> }>;
}

const operations = Object.entries(document.paths).map(([template, methods]) => ({
  template,
  // `{player_id}` matches one path segment.
  pattern: new RegExp(
    `^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`,
  ),
  methods: methods as Record<string, Operation>,
}));

const validators = new Map<string, Validator>();
function validatorFor(key: string, schema: Schema): Validator {
  let validator = validators.get(key);
  if (!validator) {
    validator = new Validator(schema, "2020-12", false);
    validators.set(key, validator);
  }
  return validator;
}

const errorSchema = document.paths["/wallet/transaction"].post.responses["400"].content[
  "application/json"
].schema as Schema;

/**
 * Throws, naming the drift, if the answer is not what openapi.json declares for the request; and
 * if the wallet accepted (2xx) a JSON body the document would refuse. `contentType` is the answer's
 * Content-Type header: an answer that is not JSON (the ledger export's NDJSON or CSV) must be of a
 * media type the document declares for that status; each line of NDJSON must match its schema.
 */
export function checkAgainstOpenApi(
  method: string,
  url: string,
  requestBody: unknown,
  status: number,
  text: string,
  contentType: string | null = "application/json",
): void {
  const path = new URL(url).pathname;
  const what = `${method} ${path} answered ${status}`;
  const route = operations.find((o) => o.pattern.test(path));
  const operation = route?.methods[method.toLowerCase()];
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (route && operation && mediaType !== "application/json") {
    const declared = operation.responses[String(status)]?.content?.[mediaType];
    if (!declared)
      throw new Error(
        `openapi.json does not declare ${mediaType || "a body without a Content-Type"} for ${status} of ${method} ${route.template} (${what})`,
      );
    if (mediaType === "application/x-ndjson") {
      if (text !== "" && !text.endsWith("\n"))
        throw new Error(`${what}: NDJSON whose last line is not ended`);
      const validator = validatorFor(`${method} ${route.template} ${status} line`, declared.schema);
      for (const [index, line] of text.split("\n").slice(0, -1).entries())
        check(validator, parse(line, `${what}, line ${index + 1}`), `${what}, line ${index + 1}`);
    }
    return;
  }
  const body = parse(text, what);
  if (!route || !operation) {
    // Not an operation of the document: the catch-all 404, or the /wallet/* and /admin/* middleware
    // (signature, admin token, body cap) refusing a request to a path or method no route serves.
    // The document cannot describe those; they must still be the API's error shape.
    check(validatorFor("error", errorSchema), body, `${what} (no such operation in openapi.json)`);
    return;
  }
  const accepted = operation.requestBody?.content["application/json"].schema;
  if (
    accepted &&
    status >= 200 &&
    status < 300 &&
    typeof requestBody === "string" &&
    requestBody !== ""
  ) {
    check(
      validatorFor(`${method} ${route.template} request`, accepted),
      parse(requestBody, `${what}: request`),
      `${what}: the request it accepted`,
    );
  }
  const response = operation.responses[String(status)];
  if (!response)
    throw new Error(
      `openapi.json does not declare ${status} for ${method} ${route.template} (${what}: ${text.slice(0, 200)})`,
    );
  const schema = response.content?.["application/json"]?.schema;
  if (response.content && !schema)
    throw new Error(
      `openapi.json declares no JSON body for ${status} of ${method} ${route.template} (${what})`,
    );
  if (schema) check(validatorFor(`${method} ${route.template} ${status}`, schema), body, what);
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

function check(validator: Validator, body: unknown, what: string): void {
  const result = validator.validate(body);
  if (!result.valid) {
    const errors = result.errors.slice(0, 5).map((e) => `${e.instanceLocation}: ${e.error}`);
    throw new Error(
      `${what} with a body openapi.json does not allow:\n  ${errors.join("\n  ")}\n  body: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
}
