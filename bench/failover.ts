/**
 * `npm run bench -- failover`: faux mobility measured with real traffic. A gateway process with two sim clouds
 * (sim-east, sim-west) serving the kv workload, Debian's HAProxy in front (driven by skygate over its runtime API),
 * load from autocannon (its own process) through HAProxy, and the primary cloud's outage as the fault.
 *
 * - Unplanned, warm standby (probes every 1 s, fall 2), five failovers in a row A→B→A→B→A ("whack-a-mole"): time
 *   from the fault to the first request served by the standby, each phase, failed requests, and the data lost (keys
 *   acknowledged before the fault and missing after it) beside the replica's age at the fault. Baseline, in the same
 *   run and under the same fault: the same load through a second HAProxy that fails over by itself with its default
 *   checks (inter 2s, fall 3), primary and standby in one backend, the standby as `backup`.
 * - Unplanned, cold standby: launched from the newest replica at failover (launch dominates).
 * - Planned switchover: drain first; aim 0 failed requests.
 * Both HAProxies use the retry settings the README documents for failover (retries, redispatch, retry-on).
 * BENCH_FAILOVER_ROUNDS (default 5 warm, 3 cold, 3 planned) shortens it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestHaproxy } from '../test/helpers/haproxy-process.js';
import type { FailoverLoadResult, FailoverLoadSpec } from './failover-load.js';
import { freePort, machine, printTable, showSpread, spread, startGateway, stop, TOKEN, writeResult } from './harness.js';

/** The retry settings the README documents for a failover backend (both HAProxies use them). */
export const HAPROXY_DEFAULTS = [
  'timeout connect 500ms',
  'timeout client 30s',
  'timeout server 30s',
  'retries 8',
  'option redispatch 1',
  'retry-on conn-failure empty-response response-timeout',
];
const LOAD = { connections: 10, rate: 100 };
const ROUNDS = Number(process.env.BENCH_FAILOVER_ROUNDS ?? 0);
const WARM_ROUNDS = ROUNDS || 5;
const COLD_ROUNDS = ROUNDS ? Math.min(ROUNDS, 3) : 3;
const PLANNED_ROUNDS = ROUNDS ? Math.min(ROUNDS, 3) : 3;
const FAULT_AFTER_MS = 4000;
const LOAD_S = 14;
/** A cold standby launches from its replica: the load runs longer to see it serve. */
const COLD_LOAD_S = 30;
const ONLY = new Set((process.env.BENCH_FAILOVER_ONLY ?? 'warm,cold,planned').split(','));

interface Group {
  id: string;
  status: {
    primary: string;
    phase: string;
    activeOperation?: string;
    failovers: number;
    sites: Record<string, { instances: Record<string, string>; needsReseed?: boolean }>;
    lastFailover?: { operationId: string; phases: Record<string, number>; replicaAgeSeconds?: number; outcome?: string };
  };
}

let gatewayUrl = '';
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read field by field as a client script would
async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}${p}`, {
    method,
    headers: auth,
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}

const group = async (id: string) => (await api('GET', `/v1/protection-groups/${id}`)).body as Group;
const other = (site: string) => (site === 'sim-east' ? 'sim-west' : 'sim-east');
const fault = (site: string, outage: boolean) => api('PUT', `/v1/admin/providers/${site}/faults`, { outage });

/** Waits until the group's standby can take over: not to be re-seeded, and (warm) its standby instances running. */
async function standbyReady(id: string, warm: boolean): Promise<Group> {
  return until(`group ${id}: standby ready`, 120_000, async () => {
    const g = await group(id);
    const standby = g.status.sites[other(g.status.primary)];
    if (g.status.activeOperation !== undefined || g.status.phase !== 'protecting' || standby === undefined || standby.needsReseed)
      return undefined;
    if (warm && Object.keys(standby.instances).length === 0) return undefined;
    if (!warm) {
      const replicas = (await api('GET', `/v1/protection-groups/${id}/replicas?site=${other(g.status.primary)}`)).body;
      if ((replicas?.items ?? []).length === 0) return undefined;
    }
    return g;
  });
}

async function launch(provider: string, name: string): Promise<{ id: string; nativeId: string; privateIp: string }> {
  const res = await api('POST', '/v1/instances', { provider, name, flavorId: 'sim.small', imageId: 'img-kv-app' });
  if (res.status !== 202) throw new Error(`launch: ${res.status} ${JSON.stringify(res.body)}`);
  const op = await until('launch', 30_000, async () => {
    const o = (await api('GET', `/v1/operations/${res.body.id}`)).body;
    return o.status === 'succeeded' || o.status === 'failed' ? o : undefined;
  });
  if (op.status !== 'succeeded') throw new Error(`launch failed: ${JSON.stringify(op.error)}`);
  const i = (await api('GET', `/v1/instances/${encodeURIComponent(op.target)}`)).body;
  return { id: i.id, nativeId: i.id.split(':')[1], privateIp: i.privateIp };
}

/** Runs the load generator in its own process for LOAD_S seconds. */
function startLoad(url: string, durationS = LOAD_S): Promise<FailoverLoadResult> {
  const spec: FailoverLoadSpec = { url, ...LOAD, durationS };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/failover-load.ts', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as FailoverLoadResult) : reject(new Error(`load exited ${code}`)),
    );
  });
}

/** First answer from any instance other than `from`'s, after the fault: the recovery time seen by clients. */
function recoveryMs(load: FailoverLoadResult, oldIds: Set<string>, faultAt: number): number | undefined {
  const firsts = Object.entries(load.servedBy)
    .filter(([id]) => !oldIds.has(id))
    .map(([, s]) => s.first)
    .filter((t) => t >= faultAt);
  return firsts.length === 0 ? undefined : Math.min(...firsts) - faultAt;
}

/**
 * Writes keys one after another through the load balancer until `stop` says so; `acked` grows as they are
 * acknowledged (with when), `done` ends with the writer.
 */
function writer(
  url: string,
  prefix: string,
  stopAt: () => boolean,
): { acked: Array<{ key: string; at: number }>; done: Promise<void> } {
  const acked: Array<{ key: string; at: number }> = [];
  const done = (async () => {
    for (let n = 0; !stopAt(); n++) {
      const key = `${prefix}-${n}`;
      const ok = await fetch(`${url}/kv/${key}`, { method: 'PUT', body: key, signal: AbortSignal.timeout(8000) }).then(
        (r) => r.status < 300,
        () => false,
      );
      if (ok) acked.push({ key, at: Date.now() });
      await sleep(50);
    }
  })();
  return { acked, done };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-failover-'));
  const port = await freePort();
  const edge = await TestHaproxy.start([{ name: 'app', lines: ['balance roundrobin'] }], HAPROXY_DEFAULTS);
  const edgeCold = await TestHaproxy.start([{ name: 'app', lines: ['balance roundrobin'] }], HAPROXY_DEFAULTS);
  const workload = `workload: { port: ${port}, images: [{ id: img-kv-app, name: kv-app }] }`;
  // No HAProxy check on the servers skygate manages: skygate probes them; a server HAProxy marked down by itself
  // would answer 503 at once to the requests that otherwise wait in their retries for the flip.
  const serverOptions = '';
  const config = [
    'providers:',
    `  - { id: sim-east, type: sim, settings: { latencyMs: 0, addressBlock: 127.61.0.0/16, ${workload} } }`,
    `  - { id: sim-west, type: sim, settings: { latencyMs: 0, addressBlock: 127.62.0.0/16, ${workload} } }`,
    `  - { id: edge, type: sim, settings: { latencyMs: 0, addressBlock: 127.63.0.0/16 }, loadBalancer: { type: haproxy, settings: { socket: ${edge.socket}, backends: [app], serverOptions: "${serverOptions}" } } }`,
    `  - { id: edge-cold, type: sim, settings: { latencyMs: 0, addressBlock: 127.64.0.0/16 }, loadBalancer: { type: haproxy, settings: { socket: ${edgeCold.socket}, backends: [app], serverOptions: "${serverOptions}" } } }`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'skygate.yaml'), config);
  const gw = await startGateway({ SKYGATE_DATA_DIR: path.join(dir, 'data'), SKYGATE_CONFIG: path.join(dir, 'skygate.yaml') });
  gatewayUrl = gw.url;
  const healthCheck = { protocol: 'http', port, path: '/healthz', intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2 };
  const results: Record<string, unknown> = { machine: machine(), load: LOAD, haproxy: HAPROXY_DEFAULTS };
  try {
    const warmApp = await launch('sim-east', 'warm-app');
    const coldApp = await launch('sim-east', 'cold-app');
    const make = async (name: string, instance: string, mode: 'warm' | 'cold', lbProvider: string, failoverMode: string) => {
      const res = await api('POST', '/v1/protection-groups', {
        name,
        primary: 'sim-east',
        instances: { ids: [instance] },
        standbys: ['sim-west'],
        standbyMode: mode,
        replication: { rpoSeconds: 20, retain: 2 },
        healthCheck,
        traffic: { lbProvider, poolId: 'app', port },
        failoverMode,
      });
      if (res.status !== 201) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    };
    const warm = await make('warm-app', warmApp.id, 'warm', 'edge', 'automatic');
    const cold = await make('cold-app', coldApp.id, 'cold', 'edge-cold', 'manual');

    // ---- unplanned, warm standby, five in a row, with the HAProxy-alone baseline under the same fault
    const warmRows: string[][] = [];
    const warmFigures: Array<Record<string, unknown>> = [];
    // One writer for all the warm rounds: keys acknowledged since the previous failover and missing after the next
    // are the data that failover lost (what the replica did not hold yet).
    let writing = ONLY.has('warm');
    const writes = writer(edge.url, 'k', () => !writing);
    let windowStart = Date.now();
    for (let round = 0; ONLY.has('warm') && round < WARM_ROUNDS; round++) {
      const g = await standbyReady(warm, true);
      const from = g.status.primary;
      const to = other(from);
      const primaryIds = Object.values(g.status.sites[from]!.instances);
      const standbyIds = Object.values(g.status.sites[to]!.instances);
      const ipOf = async (id: string) => (await api('GET', `/v1/instances/${encodeURIComponent(id)}`)).body.privateIp as string;
      const baseline = await TestHaproxy.start(
        [
          {
            name: 'app',
            lines: [
              'balance roundrobin',
              'option httpchk GET /healthz',
              ...(await Promise.all(
                primaryIds.map(async (id, i) => `server p${i} ${await ipOf(id)}:${port} check inter 2s fall 3`),
              )),
              ...(await Promise.all(
                standbyIds.map(async (id, i) => `server s${i} ${await ipOf(id)}:${port} check inter 2s fall 3 backup`),
              )),
            ],
          },
        ],
        HAPROXY_DEFAULTS,
      );
      await sleep(2500); // the baseline's first checks pass
      const [skygateLoad, baselineLoad] = [startLoad(edge.url), startLoad(baseline.url)];
      await sleep(FAULT_AFTER_MS);
      const faultAt = Date.now();
      await fault(from, true);
      const [s, b] = await Promise.all([skygateLoad, baselineLoad]);
      const after = await until('failover recorded', 60_000, async () => {
        const x = await group(warm);
        return x.status.primary === to && x.status.activeOperation === undefined ? x : undefined;
      });
      const before = writes.acked.filter((w) => w.at >= windowStart && w.at < faultAt);
      windowStart = Date.now();
      let lost = 0;
      for (const w of before) {
        const r = await fetch(`${edge.url}/kv/${w.key}`).then(
          (x) => x.status,
          () => 0,
        );
        if (r !== 200) lost++;
      }
      await baseline.close();
      await fault(from, false);
      const oldIds = new Set(primaryIds.map((id) => id.split(':')[1]!));
      const rto = recoveryMs(s, oldIds, faultAt);
      const baseRto = recoveryMs(b, oldIds, faultAt);
      const phases = after.status.lastFailover?.phases ?? {};
      const replicaAge = after.status.lastFailover?.replicaAgeSeconds;
      warmFigures.push({
        from,
        to,
        rto,
        baseRto,
        phases,
        failed: s.failed,
        sent: s.sent,
        baseFailed: b.failed,
        baseSent: b.sent,
        lostKeys: lost,
        acked: before.length,
        replicaAge,
      });
      warmRows.push([
        `${round + 1}: ${from} → ${to}`,
        `${rto ?? '—'} ms`,
        ['detect', 'decide', 'fence', 'launch', 'healthy', 'flip'].map((p) => phases[p] ?? '—').join(' / '),
        `${s.failed} of ${s.sent}`,
        `${baseRto ?? '—'} ms, ${b.failed} of ${b.sent} failed`,
        `${lost} of ${before.length}`,
        `${replicaAge ?? '—'} s`,
      ]);
      console.log(`warm round ${round + 1}: ${warmRows.at(-1)?.join(' | ')}`);
      if (s.failed > 0)
        console.log(
          `  non-2xx by second since the load began (fault at ${Math.round((faultAt - s.startedAt) / 1000)} s): ${JSON.stringify(s.non2xxBySecond)}`,
        );
    }
    writing = false;
    await writes.done;
    if (ONLY.has('warm')) {
      console.log(
        '\nUnplanned failover, warm standby (probes 1 s, fall 2) — five in a row; baseline: HAProxy alone, backup server, inter 2s fall 3',
      );
      printTable([
        [
          'round',
          'fault → first request at standby',
          'detect / decide / fence / launch / healthy / flip (ms)',
          'failed requests',
          'baseline (HAProxy alone)',
          'keys lost',
          'replica age at fault',
        ],
        ...warmRows,
      ]);
      const rtos = warmFigures.map((f) => f.rto as number).filter((x) => x !== undefined);
      const baseRtos = warmFigures.map((f) => f.baseRto as number).filter((x) => x !== undefined);
      const failedPct = warmFigures.map((f) => (100 * (f.failed as number)) / Math.max(1, f.sent as number));
      const baseFailedPct = warmFigures.map((f) => (100 * (f.baseFailed as number)) / Math.max(1, f.baseSent as number));
      printTable([
        ['warm, median (min–max)', 'skygate', 'HAProxy alone', 'aim'],
        ['fault → first request at standby (ms)', showSpread(spread(rtos)), showSpread(spread(baseRtos)), '< 3000 ms'],
        ['failed requests (% of sent)', showSpread(spread(failedPct), 3), showSpread(spread(baseFailedPct), 3), '< 0.1 %'],
      ]);
      results.warm = {
        rounds: warmFigures,
        rto: spread(rtos),
        baselineRto: spread(baseRtos),
        failedPct: spread(failedPct),
        baselineFailedPct: spread(baseFailedPct),
      };
    }

    // ---- unplanned, cold standby (the warm group is set to manual so only the cold one moves)
    // Switched to automatic only once its primary passes its checks again (the warm rounds' outages hit it too):
    // a group whose primary is down when it turns automatic fails over at once, before the round's fault.
    await api('PATCH', `/v1/protection-groups/${warm}`, { failoverMode: 'manual' });
    await until('cold group: primary healthy', 60_000, async () => {
      const g = await group(cold);
      return (g.status.sites[g.status.primary] as { health?: string }).health === 'healthy' ? true : undefined;
    });
    await api('PATCH', `/v1/protection-groups/${cold}`, { failoverMode: 'automatic' });
    const coldRows: string[][] = [];
    const coldFigures: Array<Record<string, unknown>> = [];
    for (let round = 0; ONLY.has('cold') && round < COLD_ROUNDS; round++) {
      const g = await standbyReady(cold, false);
      await until('cold group: primary healthy', 30_000, async () =>
        ((await group(cold)).status.sites[g.status.primary] as { health?: string }).health === 'healthy' ? true : undefined,
      );
      const from = g.status.primary;
      const to = other(from);
      const primaryIds = Object.values(g.status.sites[from]!.instances);
      const load = startLoad(edgeCold.url, COLD_LOAD_S);
      await sleep(FAULT_AFTER_MS);
      const faultAt = Date.now();
      await fault(from, true);
      const s = await load;
      const after = await until('cold failover recorded', 60_000, async () => {
        const x = await group(cold);
        return x.status.primary === to && x.status.activeOperation === undefined ? x : undefined;
      });
      await fault(from, false);
      const rto = recoveryMs(s, new Set(primaryIds.map((id) => id.split(':')[1]!)), faultAt);
      const phases = after.status.lastFailover?.phases ?? {};
      coldFigures.push({ from, to, rto, phases, failed: s.failed, sent: s.sent });
      coldRows.push([
        `${round + 1}: ${from} → ${to}`,
        `${rto ?? '—'} ms`,
        ['detect', 'decide', 'fence', 'launch', 'healthy', 'flip'].map((p) => phases[p] ?? '—').join(' / '),
        `${s.failed} of ${s.sent}`,
      ]);
      console.log(`cold round ${round + 1}: ${coldRows.at(-1)?.join(' | ')}`);
      if (s.failed > 0)
        console.log(
          `  non-2xx by second since the load began (fault at ${Math.round((faultAt - s.startedAt) / 1000)} s): ${JSON.stringify(s.non2xxBySecond)}`,
        );
    }
    console.log('\nUnplanned failover, cold standby (launched from the newest replica)');
    printTable([
      ['round', 'fault → first request at standby', 'detect / decide / fence / launch / healthy / flip (ms)', 'failed requests'],
      ...coldRows,
    ]);
    const coldRtos = coldFigures.map((f) => f.rto as number).filter((x) => x !== undefined);
    results.cold = { rounds: coldFigures, ...(coldRtos.length > 0 && { rto: spread(coldRtos) }) };

    // ---- planned switchover on the warm group
    await api('PATCH', `/v1/protection-groups/${cold}`, { failoverMode: 'manual' });
    const plannedRows: string[][] = [];
    const plannedFigures: Array<Record<string, unknown>> = [];
    for (let round = 0; ONLY.has('planned') && round < PLANNED_ROUNDS; round++) {
      const g = await standbyReady(warm, true);
      const to = other(g.status.primary);
      const load = startLoad(edge.url);
      await sleep(FAULT_AFTER_MS);
      const asked = Date.now();
      const res = await api('POST', `/v1/protection-groups/${warm}/switchover`, { to });
      if (res.status !== 202) throw new Error(`switchover: ${res.status} ${JSON.stringify(res.body)}`);
      const op = await until('switchover', 60_000, async () => {
        const o = (await api('GET', `/v1/operations/${res.body.id}`)).body;
        return o.status === 'succeeded' || o.status === 'failed' ? o : undefined;
      });
      const took = Date.now() - asked;
      const s = await load;
      plannedFigures.push({ to, status: op.status, tookMs: took, failed: s.failed, sent: s.sent });
      plannedRows.push([`${round + 1}: → ${to}`, op.status, `${took} ms`, `${s.failed} of ${s.sent}`]);
      console.log(`planned round ${round + 1}: ${plannedRows.at(-1)?.join(' | ')}`);
    }
    console.log('\nPlanned switchover (drain first) — aim: 0 failed requests');
    printTable([['round', 'operation', 'asked → done', 'failed requests'], ...plannedRows]);
    results.planned = { rounds: plannedFigures };
  } finally {
    await stop(gw.child);
    await edge.close();
    await edgeCold.close();
    await rm(dir, { recursive: true, force: true });
  }
  await writeResult('failover', results);
}

await main();
