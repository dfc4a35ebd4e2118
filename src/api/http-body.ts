/** Request-body facts every front shares: decompression failures, and the signal that a streamed body will not arrive. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Whether a request carries bytes in its body, judged from its headers alone (nothing is read). */
export const carriesBody = (req: IncomingMessage): boolean =>
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
export function bodyAbortSignal(res: ServerResponse): AbortSignal {
  return controllerOf(res).signal;
}

export function abortBody(res: ServerResponse, reason: string): void {
  controllerOf(res).abort(reason);
}

/** By response, whichever front (express or not) answers it; gone with the response. */
const controllers = new WeakMap<ServerResponse, AbortController>();

function controllerOf(res: ServerResponse): AbortController {
  let controller = controllers.get(res);
  if (!controller) {
    controller = new AbortController();
    controllers.set(res, controller);
  }
  return controller;
}
