/** The closed list of error codes the API answers with, and the HTTP status of each. */
export const errorStatus = {
  invalid_email: 422,
  consent_required: 422,
  validation_failed: 422,
  unknown_topic: 422,
  unknown_consent_version: 422,
  confirmation_required: 422,
  captcha_failed: 422,
  invalid_json: 400,
  invalid_body: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_state: 409,
  invalid_token: 404,
  token_expired: 410,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { fields?: FieldError[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = errorStatus[code];
  }
}

export const notFound = (what = 'Not found.') => new AppError('not_found', what);
