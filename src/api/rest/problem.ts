/** Renders any error as RFC 9457 problem+json with a stable `type` per error code. */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { isDecompressionError } from '../http-body.js';
import { ERROR_CODES, SkygateError, toSkygateError, type ErrorCode, type SkygateErrorOptions } from '../../core/index.js';

export const problemType = (code: ErrorCode) => `https://skygate.dev/problems/${code.replaceAll('_', '-')}`;

/**
 * An error of the taxonomy answered with a more precise HTTP status than its code's (415, 405, 408):
 * the code, and so the problem `type`, stays the taxonomy's; status and title say what HTTP says.
 */
export class HttpProblem extends SkygateError {
  /** Headers the status calls for (`Allow` with a 405). */
  readonly headers: Record<string, string>;

  constructor(
    private readonly httpStatus: number,
    readonly httpTitle: string,
    code: ErrorCode,
    message: string,
    options: SkygateErrorOptions & { headers?: Record<string, string> } = {},
  ) {
    super(code, message, options);
    this.headers = options.headers ?? {};
  }

  override get status(): number {
    return this.httpStatus;
  }
}

export function problemBody(err: SkygateError, instance?: string): Record<string, unknown> {
  return {
    type: problemType(err.code),
    title: err instanceof HttpProblem ? err.httpTitle : ERROR_CODES[err.code].title,
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

/** Body-parser failures arrive as http-errors (or bare zlib errors); give them the taxonomy's codes and a field. */
function fromHttpError(e: unknown): SkygateError | undefined {
  const h = e as { type?: string; status?: number; message?: string; limit?: number; code?: string; errno?: number };
  if (h?.type === 'entity.parse.failed')
    return new SkygateError('invalid_input', `body: malformed JSON (${h.message})`, { field: 'body' });
  if (h?.type === 'entity.too.large') {
    return new SkygateError('payload_too_large', `body: larger than the ${h.limit} bytes accepted`, { field: 'body' });
  }
  if (h?.type === 'encoding.unsupported') {
    return new HttpProblem(
      415,
      'Unsupported media type',
      'invalid_input',
      `body: ${h.message}; send it as it is (identity), or gzip, deflate or br`,
      { field: 'header.content-encoding' },
    );
  }
  if (h?.type === 'charset.unsupported') {
    return new HttpProblem(415, 'Unsupported media type', 'invalid_input', `body: ${h.message}; send UTF-8`, {
      field: 'header.content-type',
    });
  }
  if (isDecompressionError(e)) return badEncoding(e as Error);
  return undefined;
}

const badEncoding = (e: Error) =>
  new SkygateError('invalid_input', `body: not valid data of its Content-Encoding (${e.message})`, {
    field: 'header.content-encoding',
  });

export function problemHandler(log: {
  error(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}): ErrorRequestHandler {
  return (e, req, res, _next) => {
    const err = fromHttpError(e) ?? toSkygateError(e);
    if (err.code === 'internal') log.error({ err: e, path: req.path }, 'unhandled error');
    // Already answered (a timeout that answered first) or the client is gone: nothing more to send.
    if (res.headersSent || req.socket.destroyed) {
      if (err.code !== 'internal')
        log.warn?.({ path: req.path, code: err.code, reason: err.message }, 'request ended unanswered');
      return;
    }
    sendProblem(req, res, err);
  };
}

/** Answers `err` as problem+json, with the headers its kind calls for. */
export function sendProblem(req: Request, res: Response, err: SkygateError): void {
  if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.ceil(err.retryAfter)));
  if (err instanceof HttpProblem) for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  // RFC 6750: a 401 says which scheme to use, and whether the token given was at fault.
  if (err.code === 'unauthorized') {
    res.setHeader(
      'WWW-Authenticate',
      req.get('authorization') ? 'Bearer realm="skygate", error="invalid_token"' : 'Bearer realm="skygate"',
    );
  }
  const body =
    err.code === 'internal'
      ? problemBody(new SkygateError('internal', 'internal error; see the gateway log'))
      : problemBody(err, req.originalUrl);
  res.status(err.status).type('application/problem+json').send(JSON.stringify(body));
}
