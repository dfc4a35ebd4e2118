/**
 * The OCCI front's listing beside the REST API's, in one run over one gateway holding 10,000 sim instances
 * on 2 providers: `GET /compute/?number=100` in application/occi+json and in text/uri-list, each against
 * `GET /v1/instances?limit=100` (the same 100 instances a page), 50 connections, the load generator in its
 * own process, subject and baseline alternated over BENCH_ROUNDS rounds (default 3), medians with spread.
 * Aim: OCCI within 1.5x of REST's throughput (ratio >= 0.67). Results go to bench/results/occi.json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  compareInRounds,
  comparisonRows,
  machine,
  peakRssMiB,
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
const CONNECTIONS = 50;
const INSTANCES = 10_000;
const PAGE = 100;
/** Within 1.5x of REST: at least 1/1.5 of its throughput, rounded as the table prints it. */
const AIM = { minThroughputRatio: 0.67 };
const auth = { Authorization: `Bearer ${TOKEN}` };

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-occi-'));
  try {
    const dataDir = path.join(dir, 'data');
    await seedSimInstances(dataDir, ['sim-east', 'sim-west'], INSTANCES / 2, () => ({ bench: 'occi' }));
    const config = path.join(dir, 'skygate.yaml');
    await writeFile(
      config,
      `providers:\n${['sim-east', 'sim-west'].map((id) => `  - id: ${id}\n    type: sim\n    settings:\n      latencyMs: 0\n`).join('')}`,
    );
    const { child, url } = await startGateway({ SKYGATE_DATA_DIR: dataDir, SKYGATE_CONFIG: config });
    try {
      const rest = `${url}/v1/instances?limit=${PAGE}`;
      const occi = `${url}/compute/?number=${PAGE}`;
      // Warm the inventory and check that both fronts answer a full page.
      const warm = (await (await fetch(`${rest}&fresh=true`, { headers: auth })).json()) as { items: unknown[] };
      const json = (await (await fetch(occi, { headers: { ...auth, Accept: 'application/occi+json' } })).json()) as {
        resources?: unknown[];
      };
      const uris = await (await fetch(occi, { headers: { ...auth, Accept: 'text/uri-list' } })).text();
      if (warm.items.length !== PAGE || json.resources?.length !== PAGE || uris.trim().split('\r\n').length !== PAGE) {
        throw new Error('warm-up: a front did not answer a full page');
      }
      const before = machine();
      console.log(
        `GET ${PAGE} of ${INSTANCES} computes, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s ` +
          `(${before.cpus} cores, load average ${before.loadAverage1m})`,
      );
      const restSubject = {
        label: 'REST /v1/instances',
        spec: () => ({ url: rest, headers: auth, connections: CONNECTIONS, durationS: DURATION_S }),
      };
      const results: Record<string, unknown> = {};
      for (const [name, accept] of [
        ['json', 'application/occi+json'],
        ['uri-list', 'text/uri-list'],
      ] as const) {
        const c = await compareInRounds(
          {
            label: `OCCI /compute/ ${name}`,
            spec: () => ({ url: occi, headers: { ...auth, Accept: accept }, connections: CONNECTIONS, durationS: DURATION_S }),
          },
          restSubject,
          { rounds: ROUNDS, warmupS: WARMUP_S },
        );
        printTable(comparisonRows(c, AIM));
        console.log('');
        results[name] = c;
      }
      await writeResult('occi', {
        at: new Date().toISOString(),
        machine: { ...before, loadAverage1mAfter: machine().loadAverage1m },
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        connections: CONNECTIONS,
        instances: INSTANCES,
        page: PAGE,
        aim: AIM,
        gatewayPeakRssMiB: peakRssMiB(child.pid ?? 0),
        ...results,
      });
    } finally {
      await stop(child);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
