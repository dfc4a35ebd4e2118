/** Request-body facts every front shares: decompression failures, and the signal that a streamed body will not arrive. */
import type { Request, Response } from 'express';

/** Whether a request carries bytes in its body, judged from its headers alone (nothing is read). */
export const carriesBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** zlib and brotli failures: a body that is not what its Content-Encoding says (`gzip` that is not gzip). */
export function isDecompressionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR__ERROR_FORMAT') || code.startsWith('ERR_BROTLI'))
  );
}

/**
 * Fired by the server when a request's body stops arriving (idle too long), so that a route streaming
 * it (an upload) fails at once instead of waiting for bytes that will not come; `reason` says why.
 */
export function bodyAbortSignal(res: Response): AbortSignal {
  return controllerOf(res).signal;
}

export function abortBody(res: Response, reason: string): void {
  controllerOf(res).abort(reason);
}

function controllerOf(res: Response): AbortController {
  const locals = res.locals as { bodyAbort?: AbortController };
  locals.bodyAbort ??= new AbortController();
  return locals.bodyAbort;
}
