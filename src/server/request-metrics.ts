/** Times every HTTP request, whichever front answers it, into one Prometheus histogram (and a debug log line). */
import type { RequestHandler } from 'express';
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

export function requestMetrics(log: RequestLog): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = `${req.baseUrl}${(req.route?.path as string | undefined) ?? 'unmatched'}`;
      httpSeconds.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      // The line is only built when it will be written: this runs on every request.
      if (log.isLevelEnabled?.('debug') ?? true) {
        // The path only, with credential-like query values (a token, a pre-signed URL's signature) redacted.
        log.debug({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: seconds * 1000 }, 'request');
      }
    });
    next();
  };
}
