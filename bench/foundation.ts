/**
 * The foundation's figures, each printed beside its baseline from the same run.
 *  1. GET /v1/instances?limit=100 over 10,000 sim instances on 2 providers, 50 connections, against a
 *     bare express server answering a pre-built page of the same bytes: both servers run side by side,
 *     the load generator runs in its own process, and the two are alternated over BENCH_ROUNDS rounds
 *     (default 3); each figure is the median with its spread. Aim: >= 0.6x bare's throughput, p99 <= 1.5x.
 *     BENCH_INVENTORY_MAX_AGE_MS sets the gateway's inventory.maxAgeMs (default: the gateway's own).
 *  2. 1,000 instance creates through the API with sim latency 0: wall time and gateway peak RSS.
 * Results also go to bench/results/foundation.json (foundation-max-age-<ms>.json with the override).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  compareInRounds,
  comparisonRows,
  freePort,
  machine,
  peakRssMiB,
  printTable,
  startGateway,
  stop,
  TOKEN,
  waitHttp,
  writeResult,
  seedSimInstances,
} from './harness.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_AGE_MS = process.env.BENCH_INVENTORY_MAX_AGE_MS;
const CONNECTIONS = 50;
const INSTANCES = 10_000;
const CREATES = 1_000;
const AIM = { minThroughputRatio: 0.6, maxP99Ratio: 1.5 };
const auth = { Authorization: `Bearer ${TOKEN}` };

async function writeConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'skygate.yaml');
  const providers = ['sim-east', 'sim-west']
    .map((id) => `  - id: ${id}\n    type: sim\n    settings:\n      latencyMs: 0\n`)
    .join('');
  // Unset, the gateway's own default applies (a refresh of every provider's inventory when it is 5 s old,
  // started by the reads themselves). A long max age leaves the listing path alone, to tell the two costs apart.
  const inventory = MAX_AGE_MS === undefined ? '' : `inventory:\n  maxAgeMs: ${MAX_AGE_MS}\n`;
  await writeFile(file, `providers:\n${providers}${inventory}`);
  return file;
}

async function listingBenchmark(dir: string) {
  const dataDir = path.join(dir, 'list');
  await seedSimInstances(dataDir, ['sim-east', 'sim-west'], INSTANCES / 2, (i) => ({ bench: 'list', shard: String(i % 10) }));
  const config = await writeConfig(dir);
  const { child, url } = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: config });
  try {
    const target = `${url}/v1/instances?limit=100`;
    const warm = await fetch(`${target}&fresh=true`, { headers: auth });
    const page = await warm.text();
    const count = (JSON.parse(page) as { items: unknown[] }).items.length;
    if (warm.status !== 200 || count !== 100) throw new Error(`warm-up listing failed: ${warm.status} ${page.slice(0, 200)}`);

    const pageFile = path.join(dir, 'page.json');
    await writeFile(pageFile, page);
    const port = await freePort();
    const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts', pageFile, String(port)], {
      stdio: 'ignore',
    });
    try {
      const bareUrl = `http://127.0.0.1:${port}/v1/instances?limit=100`;
      await waitHttp(bareUrl, bare);
      const comparison = await compareInRounds(
        { label: 'skygate', spec: () => ({ url: target, headers: auth, connections: CONNECTIONS, durationS: DURATION_S }) },
        { label: 'bare express', spec: () => ({ url: bareUrl, connections: CONNECTIONS, durationS: DURATION_S }) },
        { rounds: ROUNDS, warmupS: WARMUP_S },
      );
      return { pageBytes: Buffer.byteLength(page), comparison, gatewayPeakRssMiB: peakRssMiB(child.pid ?? 0) };
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
    const before = machine();
    console.log(
      `GET /v1/instances?limit=100, ${INSTANCES} instances, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s ` +
        `(${before.cpus} cores, load average ${before.loadAverage1m})` +
        (MAX_AGE_MS === undefined ? '' : `, inventory.maxAgeMs ${MAX_AGE_MS}`),
    );
    const listing = await listingBenchmark(dir);
    const create = await createBenchmark(dir);
    const c = listing.comparison;
    printTable([
      ...comparisonRows(c, AIM),
      ['page size bytes', String(listing.pageBytes), String(listing.pageBytes), '', 'same'],
      ['gateway peak RSS MiB (10,000 instances cached)', String(listing.gatewayPeakRssMiB), '-', '', ''],
    ]);
    console.log('');
    printTable([
      ['benchmark', 'skygate', 'aim'],
      [`${CREATES} creates (sim latency 0), wall ms`, String(create.wallMs), ''],
      ['  all 202s accepted after ms', String(create.acceptedMs), ''],
      ['  failed operations', String(create.failed), '0'],
      ['  gateway peak RSS MiB', String(create.gatewayPeakRssMiB), ''],
    ]);
    await writeResult(MAX_AGE_MS === undefined ? 'foundation' : `foundation-max-age-${MAX_AGE_MS}`, {
      at: new Date().toISOString(),
      machine: { ...before, loadAverage1mAfter: machine().loadAverage1m },
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      connections: CONNECTIONS,
      instances: INSTANCES,
      inventoryMaxAgeMs: MAX_AGE_MS === undefined ? 'default' : Number(MAX_AGE_MS),
      aim: AIM,
      listing,
      create,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
