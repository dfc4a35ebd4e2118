/** The one error taxonomy: adapters map provider errors into it, fronts render it in their dialect. */

export const ERROR_CODES = {
  invalid_input: { status: 400, fault: 'client', retryable: false, title: 'Invalid input' },
  unauthorized: { status: 401, fault: 'client', retryable: false, title: 'Unauthorized' },
  forbidden: { status: 403, fault: 'client', retryable: false, title: 'Forbidden' },
  not_found: { status: 404, fault: 'client', retryable: false, title: 'Not found' },
  conflict: { status: 409, fault: 'client', retryable: false, title: 'Conflict' },
  payload_too_large: { status: 413, fault: 'client', retryable: false, title: 'Payload too large' },
  quota_exceeded: { status: 422, fault: 'client', retryable: false, title: 'Quota exceeded' },
  throttled: { status: 429, fault: 'client', retryable: true, title: 'Throttled' },
  unsupported: { status: 501, fault: 'server', retryable: false, title: 'Unsupported' },
  provider_unavailable: { status: 503, fault: 'server', retryable: true, title: 'Provider unavailable' },
  timeout: { status: 504, fault: 'server', retryable: true, title: 'Timeout' },
  internal: { status: 500, fault: 'server', retryable: false, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SkygateErrorOptions {
  /** The input field at fault, as a JSON pointer or dotted path (`body.flavorId`). */
  field?: string;
  provider?: string;
  /** The provider's own request id, so an operator can quote it to the provider. */
  requestId?: string;
  /** Seconds the caller should wait before retrying (throttled, unavailable). */
  retryAfter?: number;
  /** Per-field problems when validation finds several at once. */
  errors?: Array<{ field: string; reason: string }>;
  cause?: unknown;
}

/** An error every layer understands: a stable code plus where it came from and whether to retry. */
export class SkygateError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly provider?: string;
  readonly requestId?: string;
  readonly retryAfter?: number;
  readonly errors?: Array<{ field: string; reason: string }>;

  constructor(code: ErrorCode, message: string, options: SkygateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SkygateError';
    this.code = code;
    this.field = options.field;
    this.provider = options.provider;
    this.requestId = options.requestId;
    this.retryAfter = options.retryAfter;
    this.errors = options.errors;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  get fault(): 'client' | 'server' {
    return ERROR_CODES[this.code].fault;
  }
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  /** A plain, serialisable form, used for an operation's `error` and the event stream. */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      ...(this.field !== undefined && { field: this.field }),
      ...(this.provider !== undefined && { provider: this.provider }),
      ...(this.requestId !== undefined && { requestId: this.requestId }),
      ...(this.retryAfter !== undefined && { retryAfter: this.retryAfter }),
      retryable: this.retryable,
    };
  }

  static from(serialized: SerializedError): SkygateError {
    return new SkygateError(serialized.code, serialized.message, serialized);
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  field?: string;
  provider?: string;
  requestId?: string;
  retryAfter?: number;
  retryable?: boolean;
}

export const isSkygateError = (e: unknown): e is SkygateError => e instanceof SkygateError;

/** Wraps anything thrown into the taxonomy; unknown errors become `internal` without leaking detail. */
export function toSkygateError(e: unknown, provider?: string): SkygateError {
  if (isSkygateError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SkygateError('internal', message, { provider, cause: e });
}

export const notFound = (what: string, id: string, field?: string) =>
  new SkygateError('not_found', `${what} '${id}' does not exist`, { field });

export const invalid = (field: string, reason: string) =>
  new SkygateError('invalid_input', `${field}: ${reason}`, { field, errors: [{ field, reason }] });

export const conflict = (message: string, field?: string) => new SkygateError('conflict', message, { field });
