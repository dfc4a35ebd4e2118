/**
 * The load generator, run as its own process by bench/harness.ts so that its CPU is never counted
 * against the server it measures: reads a LoadSpec (JSON) as its argument, runs autocannon, prints a
 * LoadResult (JSON) on stdout.
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './harness.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const r = await autocannon({
  url: spec.url,
  method: spec.method ?? 'GET',
  ...(spec.body !== undefined && { body: spec.body }),
  ...(spec.headers !== undefined && { headers: spec.headers }),
  connections: spec.connections,
  duration: spec.durationS,
});
const result: LoadResult = {
  requestsPerSec: Math.round(r.requests.average),
  p50Ms: r.latency.p50,
  p99Ms: r.latency.p99,
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
