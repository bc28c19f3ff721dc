import type { RefusalCode } from "../wallet/refusals";
import { ERROR_RULES } from "./error-rules";

// The one error type of the API and the one place that renders it in the spec's shape:
// a flat {"code", "message"} (plus the fields the spec names, such as balance): ThrillGate's
// error_response_rules match on "<status>:<code>", so the code sits at the top level.

export type ErrorCode = keyof typeof ERROR_RULES;

// Every code the wallet refuses with has its rule in the one table: a new refusal code without
// one fails to compile here.
type RefusalCodeWithoutRule = Exclude<RefusalCode, ErrorCode>;
export const EVERY_REFUSAL_CODE_HAS_A_RULE: [RefusalCodeWithoutRule] extends [never]
  ? true
  : RefusalCodeWithoutRule = true;

/** The HTTP status of each code, from the one table of error rules. */
export const ERROR_STATUS = Object.fromEntries(
  Object.entries(ERROR_RULES).map(([code, rule]) => [code, rule.status]),
) as {
  readonly [C in ErrorCode]: (typeof ERROR_RULES)[C]["status"];
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra top-level fields of the error body, e.g. the balance with INSUFFICIENT_FUNDS. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
