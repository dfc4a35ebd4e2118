/**
 * The failover benchmark's load generator, its own process: autocannon at a steady rate through a load balancer to
 * the sim workload's `/whoami`, noting for each instance (the `X-Skygate-Instance` header) when it first and last
 * answered, and how many requests failed (non-2xx, errors, timeouts). Reads a FailoverLoadSpec (JSON) argument, prints
 * a FailoverLoadResult (JSON) on stdout.
 */
import autocannon from 'autocannon';

export interface FailoverLoadSpec {
  url: string;
  connections: number;
  /** Requests per second over all connections. */
  rate: number;
  durationS: number;
}

export interface FailoverLoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Per instance id: first and last answer, milliseconds since the epoch. */
  servedBy: Record<string, { first: number; last: number; count: number }>;
  startedAt: number;
  /** Non-2xx answers per second since `startedAt` (connection errors and timeouts are only counted in `failed`). */
  non2xxBySecond: Record<string, number>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as FailoverLoadSpec;
const servedBy: FailoverLoadResult['servedBy'] = {};
const non2xxBySecond: Record<string, number> = {};
const startedAt = Date.now();
const r = await autocannon({
  url: spec.url,
  connections: spec.connections,
  overallRate: spec.rate,
  duration: spec.durationS,
  timeout: 10,
  requests: [
    {
      method: 'GET',
      path: '/whoami',
      onResponse(status, _body, _context, headers) {
        if (status !== 200) {
          const second = String(Math.floor((Date.now() - startedAt) / 1000));
          non2xxBySecond[second] = (non2xxBySecond[second] ?? 0) + 1;
          return;
        }
        const id = String(headers?.['x-skygate-instance'] ?? 'unknown');
        const now = Date.now();
        const seen = servedBy[id];
        if (seen === undefined) servedBy[id] = { first: now, last: now, count: 1 };
        else Object.assign(seen, { last: now, count: seen.count + 1 });
      },
    },
  ],
});
const result: FailoverLoadResult = {
  sent: r.requests.sent,
  ok: r['2xx'],
  failed: r.non2xx + r.errors + r.timeouts,
  servedBy,
  startedAt,
  non2xxBySecond,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
