// The one error type of the API and the one place that renders it in the spec's shape:
// a flat {"code", "message"} (plus the fields the spec names, such as balance): ThrillGate's
// error_response_rules match on "<status>:<code>", so the code sits at the top level.

export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  CURRENCY_MISMATCH: 400,
  INVALID_SIGNATURE: 401,
  INVALID_TOKEN: 401,
  UNAUTHORIZED: 401,
  INSUFFICIENT_FUNDS: 402,
  FORBIDDEN: 403,
  PLAYER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  DUPLICATE_TRANSACTION: 409,
  TRANSACTION_CANCELLED: 409,
  PLAYER_EXISTS: 409,
  BODY_TOO_LARGE: 413,
  INTERNAL_ERROR: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, code);
}

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
