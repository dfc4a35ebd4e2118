/**
 * OpenStack figures, each beside the `openstack` CLI doing the same in the same run, against the local
 * OpenStack (docker/openstack/openstack.sh up) as its non-admin tenant:
 *  1. listing 500 servers (fake virt driver; made by nova multi-creates of 50, deleted after): a fresh
 *     listing through a skygate gateway (GET /v1/instances?fresh=true) and through the adapter alone (with
 *     and without its last phase, the servers deleted within the hour), vs `openstack server list` (with
 *     and without its name lookups) and the CLI's own start-up (`openstack token issue`);
 *  2. uploading a 1 GiB qcow2 of random data to glance: adapter.uploadImage vs `openstack image create --file`.
 * Results also go to bench/results/openstack.json.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { listAllNative } from '../src/core/resources.js';
import {
  baseImage,
  issueToken,
  makeQcow2,
  NOVA,
  readEnv,
  TINY_FLAVOR,
  tenantAdapter,
  tenantSettings,
} from '../test/integration/openstack/openstack-env.js';
import { startGateway, stop, TOKEN } from './harness.js';

/** 500 by default; BENCH_OS_SERVERS sets another count (creating 500 took 32 min on a busy 2-core machine). */
const SERVERS = Number(process.env.BENCH_OS_SERVERS ?? 500);
const BATCH = 50;
const RUNS = 5;
const UPLOAD_ROUNDS = 3;
const run = promisify(execFile);
const cliEnv = { ...process.env, ...readEnv('tenant') };
const name = `bench-${Date.now().toString(36)}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
async function nova(method: string, p: string, body?: unknown): Promise<unknown> {
  const { token } = await issueToken('tenant');
  const res = await fetch(`${NOVA}${p}`, {
    method,
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', 'OpenStack-API-Version': 'compute 2.45' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.status === 204 || res.status === 202 ? undefined : res.json().catch(() => undefined);
}
/**
 * This run's servers still to delete. Nova keeps listing some deleted ones (status DELETED) for a while
 * after a mass delete although GET answers 404: those are gone and skipped.
 */
const mine = async () =>
  (
    (await nova('GET', `/servers/detail?name=^${name}&limit=1000`)) as {
      servers: Array<{ id: string; status: string; 'OS-EXT-STS:task_state': string | null }>;
    }
  ).servers.filter((s) => s.status !== 'DELETED');

/**
 * Nova multi-creates of BATCH servers, one after the other, each waited for until built: one request for
 * all 500 stalled nova's single conductor here (114 built, then nothing for minutes).
 */
async function createServers(imageId: string): Promise<void> {
  const active = async () =>
    ((await nova('GET', `/servers/detail?name=^${name}&status=ACTIVE&limit=1000`)) as { servers: unknown[] }).servers.length;
  for (let made = 0; made < SERVERS; made += BATCH) {
    const count = Math.min(BATCH, SERVERS - made);
    await nova('POST', '/servers', {
      server: { name, flavorRef: TINY_FLAVOR, imageRef: imageId, networks: 'none', min_count: count, max_count: count },
    });
    for (const deadline = Date.now() + 600_000; (await active()) < made + count; ) {
      if (Date.now() > deadline) throw new Error(`only ${await active()} of ${made + count} servers active after 10 min`);
      await sleep(2000);
    }
  }
}

/**
 * Deletes this run's servers, then waits (up to 30 min) until nova has. A server whose delete was lost (no
 * task in progress any more) or failed (ERROR, its task left at `deleting`) is deleted again, at most once a
 * minute: deleting servers that are still being deleted only queues more work for nova-compute.
 */
async function deleteServers(): Promise<void> {
  const remove = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += 25)
      await Promise.all(ids.slice(i, i + 25).map((id) => nova('DELETE', `/servers/${id}`)));
  };
  await remove((await mine()).map((s) => s.id));
  let retried = Date.now();
  for (const deadline = Date.now() + 1_800_000; Date.now() < deadline; await sleep(5000)) {
    const left = await mine();
    if (left.length === 0) return;
    if (Date.now() - retried > 60_000) {
      await remove(left.filter((s) => s.status === 'ERROR' || !s['OS-EXT-STS:task_state']).map((s) => s.id));
      retried = Date.now();
    }
  }
  console.warn(`servers named ${name}* are left to delete`);
}

async function listing(dir: string) {
  /** Median of RUNS listings of every page by an adapter alone, and how many instances it listed. */
  const adapterListing = async (settings: Record<string, unknown>) => {
    const adapter = await tenantAdapter(settings, 'os');
    const ms: number[] = [];
    let count = 0;
    for (let i = 0; i < RUNS; i++) ms.push(await timeMs(async () => (count = (await listAllNative(adapter, 'instance')).length)));
    return { medianMs: median(ms), count };
  };
  const adapter = await adapterListing({});
  // without the last phase that lists servers deleted within the hour (nova's changes-since listing)
  const adapterLiveOnly = await adapterListing({ terminatedRetentionMs: 0 });

  const config = path.join(dir, 'skygate.json');
  await writeFile(
    config,
    JSON.stringify({
      providers: [{ id: 'os', type: 'openstack', settings: tenantSettings() }],
      inventory: { maxAgeMs: 5000, providerTimeoutMs: 120_000 },
    }),
  );
  const { child, url } = await startGateway({ SKYGATE_DATA_DIR: path.join(dir, 'data'), SKYGATE_CONFIG: config });
  const gatewayMs: number[] = [];
  let gatewayCount = 0;
  try {
    const get = async () => {
      const res = await fetch(`${url}/v1/instances?provider=os&limit=1000&fresh=true`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      const body = (await res.json()) as { items: unknown[]; providers: Array<{ status: string }> };
      if (res.status !== 200 || body.providers[0]?.status !== 'fresh')
        throw new Error(`listing: ${res.status} ${JSON.stringify(body.providers)}`);
      gatewayCount = body.items.length;
    };
    await get(); // first start: authentication and the first inventory fill
    for (let i = 0; i < RUNS; i++) gatewayMs.push(await timeMs(get));
  } finally {
    await stop(child);
  }

  /** Median of RUNS runs of one `openstack` command; `count` is the length of its JSON answer when it is a list. */
  const cli = async (...args: string[]) => {
    const ms: number[] = [];
    let count = 0;
    for (let i = 0; i < RUNS; i++) {
      ms.push(
        await timeMs(async () => {
          const { stdout } = await run('openstack', [...args, '-f', 'json'], { env: cliEnv, maxBuffer: 64 << 20 });
          const answer = JSON.parse(stdout) as unknown;
          count = Array.isArray(answer) ? answer.length : 1;
        }),
      );
    }
    return { medianMs: median(ms), count };
  };
  return {
    gatewayFresh: { medianMs: median(gatewayMs), count: gatewayCount },
    adapter,
    adapterLiveOnly,
    cli: await cli('server', 'list', '--limit', '-1'),
    cliNoNameLookup: await cli('server', 'list', '--limit', '-1', '--no-name-lookup'),
    // what every CLI call pays before it lists anything: python start-up and a keystone token
    cliStartAndToken: await cli('token', 'issue'),
  };
}

async function upload(dir: string) {
  const disk = await makeQcow2(dir, 1024);
  const adapter = await tenantAdapter({}, 'os');
  const skygateMs: number[] = [];
  const cliMs: number[] = [];
  // what the CLI pays before sending a byte, measured here too: the machine is quieter now than when listing
  const cliStartMs: number[] = [];
  for (let i = 0; i < UPLOAD_ROUNDS; i++)
    cliStartMs.push(await timeMs(() => run('openstack', ['token', 'issue', '-f', 'value', '-c', 'id'], { env: cliEnv })));
  for (let round = 0; round < UPLOAD_ROUNDS; round++) {
    let skygateId = '';
    skygateMs.push(
      await timeMs(async () => {
        const meta = { name: `${name}-skygate-${round}`, diskFormat: 'qcow2' as const, clientToken: `${name}-up-${round}` };
        skygateId = (await adapter.uploadImage(meta, createReadStream(disk.file))).nativeId;
      }),
    );
    await adapter.deleteImage(skygateId);
    let cliId = '';
    const args = ['image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare', '--file', disk.file];
    cliMs.push(
      await timeMs(async () => {
        const { stdout } = await run('openstack', [...args, `${name}-cli-${round}`, '-f', 'value', '-c', 'id'], {
          env: cliEnv,
          timeout: 900_000,
        });
        cliId = stdout.trim();
      }),
    );
    await adapter.deleteImage(cliId);
  }
  const mbps = (ms: number) => Math.round((disk.bytes / 1024 / 1024 / ms) * 1000);
  const [sky, cli] = [median(skygateMs), median(cliMs)];
  return {
    bytes: disk.bytes,
    rounds: UPLOAD_ROUNDS,
    skygate: { ms: Math.round(sky), MiBps: mbps(sky), runsMs: skygateMs.map(Math.round) },
    cli: { ms: Math.round(cli), MiBps: mbps(cli), runsMs: cliMs.map(Math.round) },
    cliStartAndTokenMs: Math.round(median(cliStartMs)),
    ratio: Number((sky / cli).toFixed(2)),
  };
}

const dir = await mkdtemp(path.join(tmpdir(), 'skygate-bench-os-'));
const ms = (x: number) => `${Math.round(x)} ms`;
try {
  const imageId = await baseImage(await tenantAdapter());
  const up = await upload(dir);
  console.log(`uploading a 1 GiB qcow2 (${up.bytes} bytes) to glance (median of ${up.rounds} alternating rounds)`);
  console.log(`  skygate adapter.uploadImage                   ${ms(up.skygate.ms)}  (${up.skygate.MiBps} MiB/s)`);
  console.log(`  baseline: openstack image create --file       ${ms(up.cli.ms)}  (${up.cli.MiBps} MiB/s)`);
  console.log(`  (of which CLI start-up + token: openstack token issue  ${ms(up.cliStartAndTokenMs)})`);
  console.log(`  time ratio skygate / CLI (below 1: faster)    ${up.ratio}`);
  const made = await timeMs(() => createServers(imageId));
  console.log(`\nmade ${SERVERS} servers with nova multi-creates of ${BATCH} in ${(made / 1000).toFixed(1)} s`);
  try {
    const list = await listing(dir);
    console.log(`listing ${SERVERS}+ servers (median of ${RUNS})`);
    console.log(
      `  skygate gateway, GET /v1/instances?fresh=true  ${ms(list.gatewayFresh.medianMs)}  (${list.gatewayFresh.count} items)`,
    );
    console.log(`  skygate adapter, all pages                    ${ms(list.adapter.medianMs)}  (${list.adapter.count})`);
    console.log(
      `  skygate adapter, live servers only            ${ms(list.adapterLiveOnly.medianMs)}  (${list.adapterLiveOnly.count})`,
    );
    console.log(`  baseline: openstack server list               ${ms(list.cli.medianMs)}  (${list.cli.count})`);
    console.log(
      `  baseline: openstack server list -n            ${ms(list.cliNoNameLookup.medianMs)}  (${list.cliNoNameLookup.count})`,
    );
    console.log(`  (of which CLI start-up + token: openstack token issue  ${ms(list.cliStartAndToken.medianMs)})`);
    const result = {
      at: new Date().toISOString(),
      servers: SERVERS,
      createSeconds: Math.round(made / 1000),
      listing: list,
      upload: up,
    };
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/openstack.json', `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await deleteServers();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
