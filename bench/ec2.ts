/**
 * The EC2 front's listing cost, beside the same listing through the REST API in the same run:
 * DescribeInstances (MaxResults=100, SigV4-signed) against GET /v1/instances?limit=100&provider=sim-east,
 * over 10,000 sim instances in sim-east, 50 connections each (autocannon), in alternating rounds whose
 * medians are compared. Aim: within 1.5x of REST.
 * Results also go to bench/results/ec2.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import autocannon from 'autocannon';
import { createCloudAdapter } from '../adapters/sim/index.js';
import { type LoadResult, load, startGateway, stop, TOKEN } from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const INSTANCES = 10_000;
const CONNECTIONS = 50;
const auth = { Authorization: `Bearer ${TOKEN}` };
const silentLog = { info() {}, warn() {}, error() {} };
const BODY = 'Action=DescribeInstances&Version=2016-11-15&MaxResults=100';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The round with the median throughput, with its own latencies. */
function median(results: LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[results.length >> 1] as LoadResult;
}

/** Seeds sim-east directly (not a measured path) with 10,000 instances. */
async function seed(dataDir: string): Promise<void> {
  const sim = await createCloudAdapter({
    providerId: 'sim-east',
    settings: { latencyMs: 0 },
    dataDir: path.join(dataDir, 'providers', 'sim-east'),
    log: silentLog,
  });
  for (let i = 0; i < INSTANCES; i++) {
    await sim.createInstance({
      name: `bench-${i}`,
      flavorId: 'sim.small',
      imageId: 'img-ubuntu-22-04',
      tags: { bench: 'ec2', shard: String(i % 10) },
      clientToken: `seed-${i}`,
    });
  }
  await sim.close?.();
}

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

async function loadEc2(url: string, headers: Record<string, string>): Promise<LoadResult> {
  const r = await autocannon({ url, method: 'POST', body: BODY, headers, connections: CONNECTIONS, duration: DURATION_S });
  return {
    requestsPerSec: Math.round(r.requests.average),
    p99Ms: r.latency.p99,
    p50Ms: r.latency.p50,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-ec2-'));
  try {
    const dataDir = path.join(dir, 'data');
    await seed(dataDir);
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

      // Rounds alternate which listing goes first, so a noisy neighbour or a background inventory refresh
      // does not weigh on one side only; each figure is the median of its rounds.
      const rounds: Array<{ rest: LoadResult; ec2: LoadResult }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        const runRest = () => load(restUrl, { connections: CONNECTIONS, durationS: DURATION_S, headers: auth });
        const runEc2 = async () => loadEc2(ec2Url, await signedRequest(host, key));
        if (i % 2 === 0) rounds.push({ rest: await runRest(), ec2: await runEc2() });
        else {
          const ec2First = await runEc2();
          rounds.push({ ec2: ec2First, rest: await runRest() });
        }
      }
      const rest = median(rounds.map((r) => r.rest));
      const ec2 = median(rounds.map((r) => r.ec2));
      const ratio = ec2.requestsPerSec / rest.requestsPerSec;
      const rows = [
        ['benchmark', 'EC2 front', 'REST (same run)', 'aim'],
        [
          `DescribeInstances 100/page req/s (${INSTANCES} instances, ${CONNECTIONS} conns, median of ${ROUNDS})`,
          String(ec2.requestsPerSec),
          `${rest.requestsPerSec} (GET /v1/instances?limit=100)`,
          `>= ${Math.round(rest.requestsPerSec / 1.5)} (REST / 1.5)`,
        ],
        ['  throughput vs REST', `${(ratio * 100).toFixed(1)}%`, '100%', '>= 66.7%'],
        ['  p99 latency ms', String(ec2.p99Ms), String(rest.p99Ms), `<= ${(rest.p99Ms * 1.5).toFixed(0)}`],
        ['  p50 latency ms', String(ec2.p50Ms), String(rest.p50Ms), ''],
        ['  non-2xx / errors', `${ec2.non2xx} / ${ec2.errors}`, `${rest.non2xx} / ${rest.errors}`, '0 / 0'],
        ['  page bytes', String(Buffer.byteLength(xml)), String(JSON.stringify(page).length), ''],
      ];
      const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
      for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
      await mkdir('bench/results', { recursive: true });
      const result = {
        at: new Date().toISOString(),
        durationS: DURATION_S,
        instances: INSTANCES,
        ec2,
        rest,
        throughputRatio: ratio,
        rounds,
      };
      await writeFile('bench/results/ec2.json', `${JSON.stringify(result, null, 2)}\n`);
      console.log('\nwritten bench/results/ec2.json');
    } finally {
      await stop(child);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
