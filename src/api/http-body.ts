/** Request-body facts every front shares: decompression failures, and the signal that a streamed body will not arrive. */
import type { Response } from 'express';

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
