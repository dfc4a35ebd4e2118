/** OCCI's answer to a failure: the GFD.223 status code and a readable text/plain message naming the field. */
import { type ErrorCode, toSkygateError } from '../../core/index.js';

export class OcciError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'OcciError';
  }
}

export const badRequest = (message: string) => new OcciError(400, message);

/** The core's taxonomy onto GFD.223's codes (the same numbers as the REST API, which uses HTTP's own). */
const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  quota_exceeded: 409,
  throttled: 503,
  unsupported: 501,
  provider_unavailable: 503,
  timeout: 503,
  internal: 500,
};

export function toOcciError(e: unknown): OcciError & { retryAfter?: number } {
  if (e instanceof OcciError) return e;
  const err = toSkygateError(e);
  const out = new OcciError(STATUS[err.code], err.code === 'internal' ? 'internal error' : err.message) as OcciError & {
    retryAfter?: number;
  };
  if (err.retryAfter !== undefined) out.retryAfter = err.retryAfter;
  return out;
}

/**
 * GFD.223 answers the usage of an action that does not apply to the entity with 400 Bad Request ("parsing
 * failures or usage of invalid actions"); the message says why skygate cannot do it there.
 */
export const notApplicable = (action: string, why: string) => new OcciError(400, `action ${action}: not applicable: ${why}`);
