/**
 * Per-request body deadlines, in place of Node's one 300 s requestTimeout (which cuts a slow but live
 * upload with a bare 408): every body must keep arriving (an idle timeout), and a body the gateway
 * buffers (JSON, EC2 forms, bounded by the body limit) must also arrive whole within a total timeout.
 * A streamed body (an OVA upload) has no total limit: large images take longer than any fixed time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { abortBody, carriesBody } from '../api/http-body.js';

export interface BodyTimeouts {
  /** Longest pause in a body's bytes, in ms. */
  idleMs: number;
  /** Longest time to receive a buffered (non-streamed) body, in ms. */
  totalMs: number;
}

export const DEFAULT_BODY_TIMEOUTS: BodyTimeouts = { idleMs: 60_000, totalMs: 300_000 };

/** Bodies the handler streams rather than buffers: the binary uploads. */
const STREAMED = ['application/x-tar', 'application/octet-stream'];

/** How a front answers a body that timed out (its own dialect; status 408). */
export type TimeoutAnswer = (req: IncomingMessage, res: ServerResponse, reason: string) => void;

/** A connect-style middleware: express mounts it, and a front served outside express calls it the same way. */
export type BodyWatch = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';

/** How long after answering a client that keeps its connection open the socket is closed anyway. */
const CLOSE_GRACE_MS = 2_000;

export function bodyTimeouts(limits: BodyTimeouts, answer: TimeoutAnswer): BodyWatch {
  // Checked by polling the socket's byte count: listening to the body's 'data' would start it flowing
  // before its handler is there to read it.
  const tick = Math.max(10, Math.min(1_000, Math.floor(limits.idleMs / 4)));
  return (req, res, next) => {
    if (!carriesBody(req) || req.complete) return next();
    const streamed = STREAMED.includes(mediaType(req));
    const started = Date.now();
    let lastBytes = req.socket.bytesRead;
    let lastAt = started;
    const timer = setInterval(() => {
      if (req.complete) return stop();
      const now = Date.now();
      if (req.socket.bytesRead !== lastBytes) {
        lastBytes = req.socket.bytesRead;
        lastAt = now;
      }
      const reason =
        now - lastAt >= limits.idleMs
          ? `no body data arrived for ${seconds(limits.idleMs)} (idle timeout)`
          : !streamed && now - started >= limits.totalMs
            ? `the body did not arrive whole within ${seconds(limits.totalMs)}`
            : undefined;
      if (reason === undefined) return;
      stop();
      timedOut(req, res, reason, answer);
    }, tick);
    timer.unref();
    const stop = () => clearInterval(timer);
    req.once('close', stop);
    res.once('close', stop);
    next();
  };
}

function timedOut(req: IncomingMessage, res: ServerResponse, reason: string, answer: TimeoutAnswer): void {
  // A handler streaming the body fails now, and says why; it must not wait for bytes that will not come.
  abortBody(res, reason);
  const socket = req.socket;
  if (res.headersSent) {
    socket.destroy();
    return;
  }
  res.setHeader('Connection', 'close');
  answer(req, res, reason);
  // Half-close after the answer (a reset right away could lose it), then close for good.
  res.once('finish', () => {
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  });
}

const seconds = (ms: number) => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
