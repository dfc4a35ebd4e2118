/** Times every HTTP request, whichever front answers it, into one Prometheus histogram (and a debug log line). */
import type { RequestHandler } from 'express';
import { Histogram } from 'prom-client';

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
    const end = httpSeconds.startTimer({ method: req.method });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
      // The line is only built when it will be written: this runs on every request.
      if (log.isLevelEnabled?.('debug') ?? true) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.debug({ method: req.method, url: req.originalUrl, status: res.statusCode, ms }, 'request');
      }
    });
    next();
  };
}
