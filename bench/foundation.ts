/**
 * The foundation's figures, each printed beside its baseline from the same run.
 *  1. GET /v1/instances?limit=100 over 10,000 sim instances on 2 providers, 50 connections,
 *     against a bare express server answering a pre-built page of the same size.
 *  2. 1,000 instance creates through the API with sim latency 0: wall time and gateway peak RSS.
 * Results also go to bench/results/foundation.json.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCloudAdapter } from '../adapters/sim/index.js';
import { freePort, load, peakRssMiB, startGateway, stop, TOKEN, waitHttp } from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const INSTANCES = 10_000;
const CREATES = 1_000;
const auth = { Authorization: `Bearer ${TOKEN}` };
const silentLog = { info() {}, warn() {}, error() {} };

async function writeConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'skygate.yaml');
  const providers = ['sim-east', 'sim-west']
    .map((id) => `  - id: ${id}\n    type: sim\n    settings:\n      latencyMs: 0\n`)
    .join('');
  await writeFile(file, `providers:\n${providers}`);
  return file;
}

/** Seeds the sim clouds directly (not a measured path) so the listing benchmark starts from 10,000 instances. */
async function seed(dataDir: string): Promise<void> {
  for (const id of ['sim-east', 'sim-west']) {
    const sim = await createCloudAdapter({
      providerId: id,
      settings: { latencyMs: 0 },
      dataDir: path.join(dataDir, 'providers', id),
      log: silentLog,
    });
    for (let i = 0; i < INSTANCES / 2; i++) {
      await sim.createInstance({
        name: `bench-${id}-${i}`,
        flavorId: 'sim.small',
        imageId: 'img-ubuntu-22-04',
        tags: { bench: 'list', shard: String(i % 10) },
        clientToken: `seed-${id}-${i}`,
      });
    }
    await sim.close?.();
  }
}

async function listingBenchmark(dir: string) {
  const dataDir = path.join(dir, 'list');
  await seed(dataDir);
  const config = await writeConfig(dir);
  const { child, url } = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: config });
  try {
    const target = `${url}/v1/instances?limit=100`;
    const warm = await fetch(`${target}&fresh=true`, { headers: auth });
    const page = await warm.text();
    const count = (JSON.parse(page) as { items: unknown[] }).items.length;
    if (warm.status !== 200 || count !== 100) throw new Error(`warm-up listing failed: ${warm.status} ${page.slice(0, 200)}`);
    const gateway = await load(target, { connections: 50, durationS: DURATION_S, headers: auth });

    const pageFile = path.join(dir, 'page.json');
    await writeFile(pageFile, page);
    const port = await freePort();
    const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts', pageFile, String(port)], {
      stdio: 'ignore',
    });
    try {
      await waitHttp(`http://127.0.0.1:${port}/v1/instances`, bare);
      const baseline = await load(`http://127.0.0.1:${port}/v1/instances?limit=100`, { connections: 50, durationS: DURATION_S });
      return { pageBytes: Buffer.byteLength(page), gateway, baseline, gatewayPeakRssMiB: peakRssMiB(child.pid ?? 0) };
    } finally {
      await stop(bare);
    }
  } finally {
    await stop(child);
  }
}

async function createBenchmark(dir: string) {
  const dataDir = path.join(dir, 'create');
  const config = await writeConfig(dir);
  const { child, url } = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: config });
  try {
    const started = performance.now();
    const ids: string[] = [];
    let next = 0;
    // 50 clients, each posting creates one after another.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < CREATES) {
          const i = next++;
          const res = await fetch(`${url}/v1/instances`, {
            method: 'POST',
            headers: { ...auth, 'Content-Type': 'application/json' },
            body: JSON.stringify({
              provider: i % 2 ? 'sim-west' : 'sim-east',
              name: `create-${i}`,
              flavorId: 'sim.small',
              imageId: 'img-ubuntu-22-04',
            }),
          });
          if (res.status !== 202) throw new Error(`create ${i}: ${res.status} ${await res.text()}`);
          ids.push(((await res.json()) as { id: string }).id);
        }
      }),
    );
    const acceptedMs = performance.now() - started;
    for (;;) {
      const res = await fetch(`${url}/v1/operations?status=pending,running&limit=1`, { headers: auth });
      const body = (await res.json()) as { items: unknown[] };
      if (body.items.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const wallMs = performance.now() - started;
    const failed = await fetch(`${url}/v1/operations?status=failed&limit=1000`, { headers: auth }).then(
      (r) => r.json() as Promise<{ items: unknown[] }>,
    );
    return {
      creates: ids.length,
      acceptedMs: Math.round(acceptedMs),
      wallMs: Math.round(wallMs),
      failed: failed.items.length,
      gatewayPeakRssMiB: peakRssMiB(child.pid ?? 0),
    };
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-'));
  try {
    const listing = await listingBenchmark(dir);
    const create = await createBenchmark(dir);
    const ratio = listing.gateway.requestsPerSec / listing.baseline.requestsPerSec;
    const rows = [
      ['benchmark', 'skygate', 'baseline', 'aim'],
      [
        'GET /v1/instances?limit=100 req/s (10,000 instances, 50 conns)',
        String(listing.gateway.requestsPerSec),
        `${listing.baseline.requestsPerSec} (bare express)`,
        '>= 50% of baseline',
      ],
      ['  throughput ratio', `${(ratio * 100).toFixed(1)}%`, '100%', '>= 50%'],
      ['  p99 latency ms', String(listing.gateway.p99Ms), String(listing.baseline.p99Ms), '< 25 ms'],
      ['  p50 latency ms', String(listing.gateway.p50Ms), String(listing.baseline.p50Ms), ''],
      [
        '  non-2xx / errors',
        `${listing.gateway.non2xx} / ${listing.gateway.errors}`,
        `${listing.baseline.non2xx} / ${listing.baseline.errors}`,
        '0 / 0',
      ],
      ['  page size bytes', String(listing.pageBytes), String(listing.pageBytes), 'same'],
      ['  gateway peak RSS MiB (10,000 instances cached)', String(listing.gatewayPeakRssMiB), '-', ''],
      [`${CREATES} creates (sim latency 0), wall ms`, String(create.wallMs), '-', ''],
      ['  all 202s accepted after ms', String(create.acceptedMs), '-', ''],
      ['  failed operations', String(create.failed), '-', '0'],
      ['  gateway peak RSS MiB', String(create.gatewayPeakRssMiB), '-', ''],
    ];
    const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
    await mkdir('bench/results', { recursive: true });
    const result = { at: new Date().toISOString(), durationS: DURATION_S, listing, create, throughputRatio: ratio };
    await writeFile('bench/results/foundation.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log('\nwritten bench/results/foundation.json');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
