/** Times every HTTP request, whichever front answers it, into one Prometheus histogram (and a debug log line). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram } from 'prom-client';
import { redactUrl } from '../core/url-redaction.js';

const httpSeconds = new Histogram({
  name: 'skygate_http_request_seconds',
  help: 'HTTP requests by method, route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
});

export interface RequestLog {
  debug(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** Starts timing a request; `route` names its route once it has been answered (a front knows it only then). */
export type RequestTimer = (req: IncomingMessage, res: ServerResponse, route: () => string) => void;

/** The URL as sent: express rewrites `req.url` inside a mounted router and keeps the original beside it. */
const urlOf = (req: IncomingMessage & { originalUrl?: string }) => req.originalUrl ?? req.url ?? '';

export function requestMetrics(log: RequestLog): RequestTimer {
  return (req, res, route) => {
    const started = performance.now();
    res.once('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      httpSeconds.observe({ method: req.method, route: route(), status: String(res.statusCode) }, seconds);
      // The line is only built when it will be written: this runs on every request.
      if (log.isLevelEnabled?.('debug') ?? true) {
        // The path only, with credential-like query values (a token, a pre-signed URL's signature) redacted.
        log.debug({ method: req.method, url: redactUrl(urlOf(req)), status: res.statusCode, ms: seconds * 1000 }, 'request');
      }
    });
  };
}
