/**
 * The README's faux mobility tour, exactly as written, by bash, curl and jq: its setup block writes HAProxy's and
 * skygate's configuration and starts Debian's HAProxy; the gateway is started as the README says
 * (`SKYGATE_CONFIG=… npm start`, a real process); then the tour runs twice in a row, and what each step prints is
 * checked: the shop served at sim-east through HAProxy, a replica, the outage, the failover's events and timeline,
 * the keys written after the replica gone, the failback, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type GatewayProcess, REPO, freePort, startGatewayProcess, waitUntil } from '../helpers/gateway-process.js';
import { jsonLines, readmeBlock, runBash } from '../helpers/readme-blocks.js';

/** A run takes about a minute here (two replications, a failover, a switchover); a hang fails instead of stalling. */
const RUN_TIMEOUT_MS = 300_000;

let gw: GatewayProcess | undefined;
/** The reader's directory: where the setup block writes `data/` and the gateway keeps its data. */
let home: string;
let haPort: number;
let env: NodeJS.ProcessEnv;

/** The command the README gives to start the gateway for the tour, and the config file it names. */
async function startCommand(): Promise<{ command: string; configFile: string }> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('<!-- ha-tour-setup:end -->'));
  const m = /```sh\n(SKYGATE_CONFIG=(\S+) npm start)\n```/.exec(after);
  assert.ok(m?.[1] && m[2], 'the README says how to start the gateway for the HA tour, after its setup block');
  return { command: m[1], configFile: m[2] };
}

async function stopHaproxy(): Promise<void> {
  const pidFile = path.join(home, 'data', 'haproxy.pid');
  if (!existsSync(pidFile)) return;
  const pids = (await readFile(pidFile, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitUntil('haproxy stopped', async () => !pids.some(alive), 10_000).catch(() => {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  });
}

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'skygate-ha-reader-'));
  haPort = await freePort();
  // Only what a reader's shell has, and the port HAProxy should take (the README's HA_PORT, 8081 unless set).
  env = { PATH: process.env.PATH, HOME: home, HA_PORT: String(haPort) };
  const setup = await runBash(await readmeBlock('ha-tour-setup'), { env, cwd: home, timeoutMs: 30_000 });
  assert.equal(setup.code, 0, `the setup block failed\n${setup.stderr}\n${setup.stdout}`);
  assert.equal(setup.stdout, '', 'the setup block prints nothing when all is well');
  const { configFile } = await startCommand();
  assert.ok(existsSync(path.join(home, configFile)), `the setup block wrote ${configFile}`);
  // As the README says: `SKYGATE_CONFIG=<file> npm start` in the reader's directory (whose ./data is the data dir).
  gw = await startGatewayProcess({
    via: 'npm',
    dataDir: path.join(home, 'data'),
    env: { SKYGATE_CONFIG: path.join(home, configFile) },
    startTimeoutMs: 60_000,
  });
});

after(async () => {
  // SIGTERM first: npm passes it on to the gateway, while the SIGKILL of `close()` would leave the gateway orphaned.
  await gw?.stop('SIGTERM').catch(() => undefined);
  await gw?.close();
  if (home) {
    await stopHaproxy();
    await rm(home, { recursive: true, force: true });
  }
});

type Line = Record<string, unknown>;

class Reader {
  private at = 0;
  constructor(
    private readonly lines: unknown[],
    private readonly output: string,
  ) {}
  next<T = Line>(what: string): T {
    assert.ok(this.at < this.lines.length, `expected ${what}, but the output ended\n${this.output}`);
    return this.lines[this.at++] as T;
  }
  /** The next line, which must equal `expected`. */
  is(what: string, expected: unknown): void {
    assert.deepEqual(this.next(what), expected, `${what}\n${this.output}`);
  }
  end(): void {
    assert.equal(this.at, this.lines.length, `unexpected lines after the last step\n${this.output}`);
  }
}

interface FailoverEvent {
  type: string;
  from?: string;
  to?: string;
  site?: string;
  reason?: string;
  replicaAgeSeconds?: number;
  phases?: Record<string, number>;
}

/** Checks one run's output step by step; answers the instances it launched. */
function checkTour(stdout: string): { launched: string[] } {
  assert.ok(!/^null$/m.test(stdout), `a step printed null\n${stdout}`);
  const r = new Reader(jsonLines(stdout), stdout);
  // 1. two instances at sim-east
  const launch = r.next<{ kind: string; status: string; result: { resourceIds: string[] } }>('the launch');
  assert.equal(launch.kind, 'instance.create', stdout);
  assert.equal(launch.status, 'succeeded', stdout);
  const launched = launch.result.resourceIds;
  assert.equal(launched.length, 2, stdout);
  for (const id of launched) assert.match(id, /^sim-east:i-[0-9a-f]{17}$/);
  // 2. the group
  r.is('the group', { name: 'shop', primary: 'sim-east', standbyMode: 'cold', members: 2 });
  // 3. the standby's replica
  const ready = r.next<{ replicaAgeSeconds: number; rpoMet: boolean }>('the standby ready');
  assert.equal(typeof ready.replicaAgeSeconds, 'number', stdout);
  assert.ok(ready.replicaAgeSeconds >= 0 && ready.replicaAgeSeconds < 600, stdout);
  assert.equal(ready.rpoMet, true, stdout);
  // 4. both instances serve through HAProxy; four keys written
  r.is(
    'who serves at sim-east',
    launched
      .map((id) => ({ instance: id.slice(id.indexOf(':') + 1), provider: 'sim-east' }))
      .sort((a, b) => a.instance.localeCompare(b.instance)),
  );
  r.is('four keys written', [201, 201, 201, 201]);
  // 5. replicated now (each member to sim-west), two keys after it
  r.is('the replication', { kind: 'ha.replicate', status: 'succeeded', replicas: 2 });
  r.is('two keys written after the replica', [201, 201]);
  r.is("the shop's keys before the outage", ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  // 6. the outage and the failover's events, in order
  r.is('the outage', { outage: true });
  const started = r.next<FailoverEvent>('ha.failover.started');
  assert.equal(started.type, 'ha.failover.started', stdout);
  assert.equal(started.from, 'sim-east');
  assert.equal(started.to, 'sim-west');
  assert.match(String(started.reason), /^sim-east failed its health check/);
  r.is('ha.failover.fenced', { type: 'ha.failover.fenced', site: 'sim-east' });
  r.is('ha.failover.flipped', { type: 'ha.failover.flipped', to: 'sim-west' });
  const completed = r.next<FailoverEvent>('ha.failover.completed');
  assert.equal(completed.type, 'ha.failover.completed', stdout);
  assert.equal(completed.from, 'sim-east');
  assert.equal(completed.to, 'sim-west');
  for (const phase of ['detect', 'decide', 'fence', 'launch', 'healthy', 'flip']) {
    assert.equal(typeof completed.phases?.[phase], 'number', `phase ${phase} timed\n${stdout}`);
  }
  assert.ok((completed.phases?.launch ?? 0) > 0, 'cold: the shop was launched at sim-west');
  const age = completed.replicaAgeSeconds;
  assert.equal(typeof age, 'number', stdout);
  assert.equal(started.replicaAgeSeconds, age, stdout);
  // The replica was taken just before k5 and k6, so the seconds it lets go are those of the outage's detection.
  assert.ok(age !== undefined && age >= 0 && age < 60, stdout);
  // 7. sim-west serves the replica's keys; k5 and k6 are gone; the status says how old the replica was
  r.is('who serves after the flip', [{ provider: 'sim-west' }]);
  r.is("the shop's keys after the failover", ['k1', 'k2', 'k3', 'k4']);
  r.is('the status after the failover', { primary: 'sim-west', failovers: 1, replicaAgeSeconds: age });
  r.is('a key written at sim-west', [201]);
  // 8. the outage ends, sim-east is re-seeded and replicated to, and the shop fails back with k7
  r.is('the outage ended', { outage: false });
  r.is('the replication to sim-east', { kind: 'ha.replicate', status: 'succeeded', replicas: 2 });
  r.is('the failback', { kind: 'ha.failover', status: 'succeeded', from: 'sim-west', to: 'sim-east', planned: true });
  r.is("the shop's keys after the failback", ['k1', 'k2', 'k3', 'k4', 'k7']);
  // 9. clean up
  r.is('the group deleted', 204);
  r.is('nothing of the shop runs', { running: 0 });
  r.end();
  return { launched };
}

describe('the README tour of faux mobility', () => {
  it('runs twice in a row through a real HAProxy, printing what the README promises and leaving nothing behind', async () => {
    const g = gw;
    assert.ok(g, 'the gateway started');
    const setup = await readmeBlock('tour-setup');
    const tour = await readmeBlock('ha-tour');
    const runs: Array<{ launched: string[] }> = [];
    for (let i = 1; i <= 2; i++) {
      const res = await runBash([setup, tour].join('\n'), {
        // The reader's shell: the gateway's port and HAProxy's, nothing else of the test's.
        env: { ...env, SKYGATE_PORT: String(g.port) },
        cwd: home,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      assert.equal(res.code, 0, `run ${i} failed\n${res.stderr}\n${res.stdout}`);
      runs.push(checkTour(res.stdout));
      const groups: unknown[] = (await g.api('get', '/v1/protection-groups')).body.items;
      assert.deepEqual(groups, [], `run ${i} stopped protecting the shop`);
      const running: unknown[] = (await g.api('get', '/v1/instances?tag=app=shop&state=running&fresh=true')).body.items;
      assert.deepEqual(running, [], `run ${i} left no instance of the shop running`);
      for (const provider of ['sim-east', 'sim-west']) {
        const images: unknown[] = (await g.api('get', `/v1/images?provider=${provider}&tag=skygate.group&fresh=true`)).body.items;
        assert.deepEqual(images, [], `run ${i} deleted the group's images at ${provider}`);
      }
    }
    assert.notDeepEqual(runs[1]?.launched, runs[0]?.launched, 'the second run launched its own shop');
  });

  it('starts the gateway the way the README says', async () => {
    const { command, configFile } = await startCommand();
    assert.equal(command, `SKYGATE_CONFIG=${configFile} npm start`);
    const config = await readFile(path.join(home, configFile), 'utf8');
    assert.match(config, /id: edge/);
    assert.ok(config.includes(`socket: ${path.join(home, 'data', 'haproxy.sock')}`), config);
    const providers = (await gw?.api('get', '/v1/providers'))?.body.items.map((p: { id: string }) => p.id);
    assert.deepEqual(providers, ['sim-east', 'sim-west', 'edge']);
    const haproxyCfg = await readFile(path.join(home, 'data', 'haproxy.cfg'), 'utf8');
    assert.ok(haproxyCfg.includes(`bind 127.0.0.1:${haPort}`), haproxyCfg);
  });
});
