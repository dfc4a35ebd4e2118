/**
 * The EC2 front's listing cost, beside the same listing through the REST API in the same run:
 * DescribeInstances (MaxResults=100, SigV4-signed) against GET /v1/instances?limit=100&provider=sim-east,
 * over 10,000 sim instances in sim-east, 50 connections each, the load generator in its own process,
 * alternated over BENCH_ROUNDS rounds (default 3) whose medians are compared (bench/harness.ts).
 * Aim: >= 0.67x of REST's throughput (within 1.5x), p99 within 1.5x of REST's.
 * Results also go to bench/results/ec2.json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  compareInRounds,
  comparisonRows,
  machine,
  printTable,
  startGateway,
  stop,
  TOKEN,
  writeResult,
  seedSimInstances,
} from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const INSTANCES = 10_000;
const CONNECTIONS = 50;
const AIM = { minThroughputRatio: 0.67, maxP99Ratio: 1.5 };
const auth = { Authorization: `Bearer ${TOKEN}` };
const BODY = 'Action=DescribeInstances&Version=2016-11-15&MaxResults=100';

/** A DescribeInstances request signed now; the gateway accepts it for the next 5 minutes, longer than a run. */
async function signedRequest(host: string, creds: { accessKeyId: string; secretAccessKey: string }) {
  const signer = new SignatureV4({ credentials: creds, region: 'sim-east', service: 'ec2', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: host.split(':')[0] as string,
    path: '/ec2',
    query: {},
    headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: BODY,
  });
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

const mbPerSec = (requestsPerSec: number, bytes: number) => ((requestsPerSec * bytes) / 1e6).toFixed(0);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-ec2-'));
  try {
    const dataDir = path.join(dir, 'data');
    await seedSimInstances(dataDir, ['sim-east'], INSTANCES, (i) => ({ bench: 'ec2', shard: String(i % 10) }));
    const config = path.join(dir, 'skygate.yaml');
    await writeFile(
      config,
      'providers:\n  - id: sim-east\n    type: sim\n    settings:\n      latencyMs: 0\n  - id: sim-west\n    type: sim\n    settings:\n      latencyMs: 0\n',
    );
    const { child, url } = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: config });
    try {
      const restUrl = `${url}/v1/instances?limit=100&provider=sim-east`;
      const warm = await fetch(`${restUrl}&fresh=true`, { headers: auth });
      const page = (await warm.json()) as { items: unknown[] };
      if (warm.status !== 200 || page.items.length !== 100) throw new Error(`REST warm-up failed: ${warm.status}`);

      const keyRes = await fetch(`${url}/v1/access-keys`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'bench', role: 'viewer' }),
      });
      const key = (await keyRes.json()) as { accessKeyId: string; secretAccessKey: string };
      const host = new URL(url).host;
      const ec2Url = `${url}/ec2`;
      const check = await fetch(ec2Url, { method: 'POST', body: BODY, headers: await signedRequest(host, key) });
      const xml = await check.text();
      const listed = xml.match(/<instanceId>/g)?.length ?? 0;
      if (check.status !== 200 || listed !== 100) throw new Error(`EC2 warm-up failed: ${check.status} ${xml.slice(0, 300)}`);

      const before = machine();
      console.log(
        `DescribeInstances vs GET /v1/instances, 100 per page, ${INSTANCES} instances, ${CONNECTIONS} connections, ` +
          `${ROUNDS} rounds of ${DURATION_S} s (${before.cpus} cores, load average ${before.loadAverage1m})`,
      );
      const comparison = await compareInRounds(
        {
          label: 'EC2 DescribeInstances',
          // Signed afresh for each run: the gateway accepts a signature for 5 minutes only.
          spec: async () => ({
            url: ec2Url,
            method: 'POST',
            body: BODY,
            headers: await signedRequest(host, key),
            connections: CONNECTIONS,
            durationS: DURATION_S,
          }),
        },
        {
          label: 'REST GET /v1/instances',
          spec: () => ({ url: restUrl, headers: auth, connections: CONNECTIONS, durationS: DURATION_S }),
        },
        { rounds: ROUNDS, warmupS: WARMUP_S },
      );
      const ec2Bytes = Buffer.byteLength(xml);
      const restBytes = Buffer.byteLength(JSON.stringify(page));
      printTable([
        ...comparisonRows(comparison, AIM),
        ['page bytes', String(ec2Bytes), String(restBytes), `${(ec2Bytes / restBytes).toFixed(1)}x`, ''],
        // The XML page is ~6x the JSON one: what each front moves, beside how often it answers.
        [
          'page MB/s, median',
          mbPerSec(comparison.subject.requestsPerSec.median, ec2Bytes),
          mbPerSec(comparison.baseline.requestsPerSec.median, restBytes),
          '',
          '',
        ],
      ]);
      await writeResult('ec2', {
        at: new Date().toISOString(),
        machine: { ...before, loadAverage1mAfter: machine().loadAverage1m },
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        connections: CONNECTIONS,
        instances: INSTANCES,
        aim: AIM,
        comparison,
      });
    } finally {
      await stop(child);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
