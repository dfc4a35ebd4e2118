/** Renders any error as RFC 9457 problem+json with a stable `type` per error code. */
import type { ErrorRequestHandler } from 'express';
import { ERROR_CODES, SkygateError, toSkygateError, type ErrorCode } from '../../core/index.js';

export const problemType = (code: ErrorCode) => `https://skygate.dev/problems/${code.replaceAll('_', '-')}`;

export function problemBody(err: SkygateError, instance?: string): Record<string, unknown> {
  return {
    type: problemType(err.code),
    title: ERROR_CODES[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance !== undefined && { instance }),
    ...(err.field !== undefined && { field: err.field }),
    ...(err.errors !== undefined && { errors: err.errors }),
    ...(err.provider !== undefined && { provider: err.provider }),
    ...(err.requestId !== undefined && { requestId: err.requestId }),
    ...(err.retryAfter !== undefined && { retryAfter: err.retryAfter }),
  };
}

/** Body-parser failures arrive as http-errors; give them the taxonomy's codes and a field. */
function fromHttpError(e: unknown): SkygateError | undefined {
  const h = e as { type?: string; status?: number; message?: string; limit?: number };
  if (h?.type === 'entity.parse.failed')
    return new SkygateError('invalid_input', `body: malformed JSON (${h.message})`, { field: 'body' });
  if (h?.type === 'entity.too.large') {
    return new SkygateError('payload_too_large', `body: larger than the ${h.limit} bytes accepted`, { field: 'body' });
  }
  if (h?.type === 'encoding.unsupported' || h?.type === 'charset.unsupported') {
    return new SkygateError('invalid_input', `body: ${h.message}`, { field: 'header.content-type' });
  }
  return undefined;
}

export function problemHandler(log: { error(obj: object, msg?: string): void }): ErrorRequestHandler {
  return (e, req, res, _next) => {
    const err = fromHttpError(e) ?? toSkygateError(e);
    if (err.code === 'internal') log.error({ err: e, path: req.path }, 'unhandled error');
    if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.ceil(err.retryAfter)));
    const body =
      err.code === 'internal'
        ? problemBody(new SkygateError('internal', 'internal error; see the gateway log'))
        : problemBody(err, req.originalUrl);
    res.status(err.status).type('application/problem+json').send(JSON.stringify(body));
  };
}
