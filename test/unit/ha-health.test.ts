/**
 * Site health: the check's validation, real probes (HTTP and TCP against servers on 127.0.0.1), the hysteresis of the
 * verdict, and the monitor's rounds against a real server that is stopped and started again.
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { isSkygateError } from '../../src/core/errors.js';
import {
  checkHealthCheckSpec,
  type HealthChange,
  type HealthCheckSpec,
  HealthMonitor,
  type ProbeResult,
  probeOnce,
  ROUND_HISTORY,
  SiteHealth,
  TRANSITION_HISTORY,
} from '../../src/ha/index.js';

const HOST = '127.0.0.1';

function listen(server: Server | TcpServer, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve((server.address() as { port: number }).port));
  });
}

async function httpServer(handler: RequestListener, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  return { server, port: await listen(server, port) };
}

async function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: one the kernel just handed out and that was closed at once. */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never answers. */
async function hangingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const s = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(s);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

const http = (port: number, extra: Partial<HealthCheckSpec> = {}): HealthCheckSpec =>
  checkHealthCheckSpec({ protocol: 'http', port, intervalMs: 1000, timeoutMs: 300, ...extra });
const tcp = (port: number): HealthCheckSpec => checkHealthCheckSpec({ protocol: 'tcp', port, intervalMs: 1000, timeoutMs: 300 });

function rejects(raw: unknown, field: string, reason: RegExp): void {
  assert.throws(
    () => checkHealthCheckSpec(raw),
    (e: unknown) => {
      assert.ok(isSkygateError(e), 'a SkygateError');
      assert.equal(e.code, 'invalid_input');
      assert.equal(e.field, field);
      assert.match(e.message, reason);
      return true;
    },
  );
}

describe('health check spec', () => {
  it('fills in the documented defaults, and keeps HTTP-only fields off a TCP check', () => {
    assert.deepEqual(checkHealthCheckSpec({ port: 8000 }), {
      protocol: 'http',
      port: 8000,
      path: '/healthz',
      expectStatus: 200,
      intervalMs: 1000,
      timeoutMs: 500,
      fall: 2,
      rise: 2,
    });
    assert.deepEqual(checkHealthCheckSpec({ protocol: 'tcp', port: 22, intervalMs: 200, timeoutMs: 100, fall: 3, rise: 1 }), {
      protocol: 'tcp',
      port: 22,
      intervalMs: 200,
      timeoutMs: 100,
      fall: 3,
      rise: 1,
    });
  });

  it('refuses a timeout that is not shorter than the interval, saying why', () => {
    rejects(
      { port: 80, intervalMs: 500, timeoutMs: 500 },
      'healthCheck.timeoutMs',
      /less than intervalMs \(500 >= 500\).*overlap/,
    );
    rejects({ port: 80, timeoutMs: 1500 }, 'healthCheck.timeoutMs', /1500 >= 1000/); // against the default interval
  });

  it('names the field at fault for every other bad value', () => {
    rejects(null, 'healthCheck', /must be an object/);
    rejects([], 'healthCheck', /must be an object/);
    rejects({}, 'healthCheck.port', /1 to 65535/);
    rejects({ port: 0 }, 'healthCheck.port', /1 to 65535/);
    rejects({ port: 65536 }, 'healthCheck.port', /1 to 65535/);
    rejects({ port: 80, protocol: 'udp' }, 'healthCheck.protocol', /http or tcp/);
    rejects({ port: 80, path: 'healthz' }, 'healthCheck.path', /start with \//);
    rejects({ port: 80, path: '/a b' }, 'healthCheck.path', /no spaces/);
    rejects({ port: 80, expectStatus: 99 }, 'healthCheck.expectStatus', /100 to 599/);
    rejects({ port: 80, expectStatus: 600 }, 'healthCheck.expectStatus', /100 to 599/);
    rejects({ port: 80, intervalMs: 99, timeoutMs: 50 }, 'healthCheck.intervalMs', />?100/);
    rejects({ port: 80, intervalMs: 1000.5 }, 'healthCheck.intervalMs', /whole number/);
    rejects({ port: 80, timeoutMs: 49 }, 'healthCheck.timeoutMs', />= 50/);
    rejects({ port: 80, fall: 0 }, 'healthCheck.fall', /1 to 20/);
    rejects({ port: 80, rise: 21 }, 'healthCheck.rise', /1 to 20/);
    rejects({ port: 80, rise: 1.5 }, 'healthCheck.rise', /integer/);
    rejects({ port: 80, protocol: 'tcp', path: '/healthz' }, 'healthCheck.path', /only to protocol http/);
    rejects({ port: 80, intervalMS: 200 }, 'healthCheck.intervalMS', /not a health check field/);
    assert.throws(() => checkHealthCheckSpec({ port: 'x' }, 'standbys[1].healthCheck'), {
      field: 'standbys[1].healthCheck.port',
    });
  });
});

describe('probeOnce', () => {
  const servers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of servers) await close();
  });

  it('passes on the expected HTTP status, on the configured path', async () => {
    const paths: string[] = [];
    const { server, port } = await httpServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/ready' ? 204 : 404).end();
    });
    servers.push(() => closeHttp(server));
    const r = await probeOnce(HOST, http(port, { path: '/ready', expectStatus: 204 }));
    assert.deepEqual([r.ok, r.detail, r.target], [true, 'HTTP 204', `${HOST}:${port}`]);
    assert.ok(r.latencyMs >= 0 && r.latencyMs < 300, `latency ${r.latencyMs}`);
    assert.ok(Math.abs(Date.parse(r.at) - Date.now()) < 5000, `at ${r.at}`);
    const other = await probeOnce(HOST, http(port)); // /healthz, expecting 200
    assert.deepEqual([other.ok, other.detail], [false, 'HTTP 404, expected 200']);
    assert.deepEqual(paths, ['/ready', '/healthz']);
  });

  it('fails on a wrong status without waiting for a body that never ends', async () => {
    const { server, port } = await httpServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('starting'); // and never end
    });
    servers.push(() => closeHttp(server));
    const r = await probeOnce(HOST, http(port));
    assert.deepEqual([r.ok, r.detail], [false, 'HTTP 503, expected 200']);
    assert.ok(r.latencyMs < 300, `latency ${r.latencyMs}`);
  });

  it('fails at once with "connection refused" when nothing listens, over HTTP and TCP', async () => {
    const port = await freePort();
    for (const check of [http(port), tcp(port)]) {
      const r = await probeOnce(HOST, check);
      assert.deepEqual([r.ok, r.detail], [false, 'connection refused'], check.protocol);
      assert.ok(r.latencyMs < 300, `${check.protocol} latency ${r.latencyMs}`);
    }
  });

  it('gives up on a server that accepts and never answers, within its timeout', async () => {
    const hang = await hangingServer();
    servers.push(hang.close);
    const check = http(hang.port, { timeoutMs: 200 });
    const started = Date.now();
    const r = await probeOnce(HOST, check);
    const took = Date.now() - started;
    assert.deepEqual([r.ok, r.detail], [false, 'timed out after 200 ms']);
    assert.ok(took >= 195 && took < 200 + 150, `took ${took} ms`);
  });

  it('passes a TCP check on connect, whatever the server says', async () => {
    const hang = await hangingServer(); // accepts, never writes: enough for TCP
    servers.push(hang.close);
    const r = await probeOnce(HOST, tcp(hang.port));
    assert.deepEqual([r.ok, r.detail, r.target], [true, 'connected', `${HOST}:${hang.port}`]);
  });

  it('reports a host it cannot resolve instead of throwing', async () => {
    const r = await probeOnce('no-such-host.invalid', tcp(80));
    assert.equal(r.ok, false);
    assert.match(r.detail, /host not found|lookup failed|timed out/);
  });
});

let clockMs = Date.parse('2026-01-01T00:00:00.000Z');
const tickAt = () => {
  clockMs += 1000;
  return new Date(clockMs).toISOString();
};
const pass = (target = 'a:80'): ProbeResult => ({ ok: true, at: tickAt(), latencyMs: 1, detail: 'HTTP 200', target });
const fail = (target = 'a:80', detail = 'connection refused'): ProbeResult => ({
  ok: false,
  at: tickAt(),
  latencyMs: 1,
  detail,
  target,
});

describe('SiteHealth', () => {
  it('needs fall failing rounds in a row to go unhealthy and rise passing rounds to come back, from unknown too', () => {
    const h = new SiteHealth({ fall: 3, rise: 2 });
    assert.equal(h.state, 'unknown');
    assert.deepEqual(h.record([fail()]), { state: 'unknown', changed: false, previous: 'unknown' });
    assert.deepEqual(h.record([fail()]), { state: 'unknown', changed: false, previous: 'unknown' });
    assert.deepEqual(h.record([fail()]), { state: 'unhealthy', changed: true, previous: 'unknown' });
    assert.deepEqual(h.record([fail()]), { state: 'unhealthy', changed: false, previous: 'unhealthy' });
    assert.deepEqual(h.record([pass()]), { state: 'unhealthy', changed: false, previous: 'unhealthy' });
    assert.deepEqual(h.record([pass()]), { state: 'healthy', changed: true, previous: 'unhealthy' });
    const s = h.snapshot();
    assert.deepEqual([s.consecutivePasses, s.consecutiveFails], [2, 0]);
    assert.deepEqual(
      s.transitions.map((t) => [t.from, t.to]),
      [
        ['unknown', 'unhealthy'],
        ['unhealthy', 'healthy'],
      ],
    );
    assert.equal(s.since, s.transitions[1]?.at);
    assert.equal(s.rounds.length, 6);

    const fresh = new SiteHealth({ fall: 2, rise: 2 });
    assert.equal(fresh.record([pass()]).state, 'unknown'); // one good round is not yet a verdict
    assert.equal(fresh.snapshot().since, null);
    assert.equal(fresh.record([pass()]).state, 'healthy');
  });

  it('never changes state for a site that passes and fails by turns (hysteresis)', () => {
    for (const start of ['unknown', 'healthy', 'unhealthy'] as const) {
      const h = new SiteHealth({ fall: 2, rise: 2 });
      for (let i = 0; i < 2 && start !== 'unknown'; i++) h.record([start === 'healthy' ? pass() : fail()]);
      assert.equal(h.state, start);
      const transitionsBefore = h.snapshot().transitions.length;
      for (let i = 0; i < 100; i++) {
        const change = h.record([i % 2 === 0 ? fail() : pass()]);
        assert.deepEqual(change, { state: start, changed: false, previous: start }, `round ${i} from ${start}`);
      }
      const s = h.snapshot();
      assert.equal(s.transitions.length, transitionsBefore);
      assert.ok(s.consecutivePasses <= 1 && s.consecutiveFails <= 1);
    }
  });

  it('passes a round when at least minHealthy targets pass; a site with no targets fails', () => {
    const h = new SiteHealth({ fall: 1, rise: 1 });
    assert.equal(h.record([pass('a:80'), fail('b:80', 'HTTP 500, expected 200'), pass('c:80')], 2).state, 'healthy');
    assert.equal(h.record([pass('a:80'), fail('b:80'), fail('c:80', 'timed out after 500 ms')], 2).state, 'unhealthy');
    assert.equal(h.record([pass('a:80')], 1).state, 'healthy');
    assert.equal(h.record([pass('a:80')], 2).state, 'unhealthy'); // fewer targets than needed
    assert.equal(h.record([pass('a:80')]).state, 'healthy');
    assert.equal(h.record([]).state, 'unhealthy');
    const rounds = h.snapshot().rounds;
    assert.deepEqual(
      rounds.map((r) => [r.ok, r.passing, r.total, r.detail]),
      [
        [true, 2, 3, 'b:80: HTTP 500, expected 200'],
        [false, 1, 3, 'b:80: connection refused'],
        [true, 1, 1, undefined],
        [false, 1, 1, '1 of 1 targets passing, 2 needed'],
        [true, 1, 1, undefined],
        [false, 0, 0, 'no targets'],
      ],
    );
    assert.throws(() => h.record([pass()], 0), { field: 'minHealthy' });
  });

  it('keeps only the newest rounds and transitions', () => {
    const h = new SiteHealth({ fall: 1, rise: 1 });
    const total = ROUND_HISTORY + 16; // even: fail first, pass last
    const ats: string[] = [];
    for (let i = 0; i < total; i++) {
      const r = i % 2 === 0 ? fail() : pass();
      ats.push(r.at);
      h.record([r]);
    }
    const s = h.snapshot();
    assert.equal(s.rounds.length, ROUND_HISTORY);
    assert.deepEqual(
      s.rounds.map((r) => r.at),
      ats.slice(-ROUND_HISTORY),
    );
    assert.equal(s.transitions.length, TRANSITION_HISTORY);
    assert.deepEqual(s.transitions.at(-1), { at: ats.at(-1), from: 'unhealthy', to: 'healthy' });
    assert.equal(s.transitions[0]?.at, ats[total - TRANSITION_HISTORY]);
    // The snapshot is a copy.
    s.rounds.length = 0;
    assert.equal(h.snapshot().rounds.length, ROUND_HISTORY);
  });
});

describe('HealthMonitor', () => {
  it('turns a real server unhealthy after fall intervals when it stops, and healthy after rise when it restarts', async () => {
    const first = await httpServer((_req, res) => res.writeHead(200).end('ok'));
    const port = first.port;
    let server = first.server;
    const changes: Array<HealthChange & { key: string; ms: number }> = [];
    const origin = Date.now();
    let waiter: (() => void) | undefined;
    const monitor = new HealthMonitor({
      onChange: (key, change) => {
        changes.push({ key, ...change, ms: Date.now() - origin });
        waiter?.();
      },
    });
    const until = (state: string, withinMs: number) =>
      new Promise<number>((resolve, reject) => {
        const started = Date.now();
        const timer = setTimeout(() => reject(new Error(`not ${state} within ${withinMs} ms`)), withinMs);
        waiter = () => {
          if (changes.at(-1)?.state !== state) return;
          clearTimeout(timer);
          resolve(Date.now() - started);
        };
        waiter();
      });
    try {
      const check = checkHealthCheckSpec({ port, intervalMs: 100, timeoutMs: 50, fall: 2, rise: 3 });
      monitor.watch('app/east', { check, targets: () => [HOST] });
      await until('healthy', 1000);
      // rise 3: rounds at 0, 100 and 200 ms.
      assert.ok(changes[0]!.ms >= 190 && changes[0]!.ms < 600, `healthy after ${changes[0]!.ms} ms`);
      assert.equal(monitor.state('app/east'), 'healthy');

      await closeHttp(server);
      const downAfter = await until('unhealthy', 1000);
      // fall 2: the second failing round, 100 to 200 ms after the stop depending on where in the period it fell.
      assert.ok(downAfter >= 90 && downAfter < 500, `unhealthy ${downAfter} ms after the stop`);
      const down = monitor.snapshot('app/east')!;
      assert.match(down.rounds.at(-1)!.detail!, new RegExp(`^${HOST}:${port}: connection refused$`));

      server = (await httpServer((_req, res) => res.writeHead(200).end('ok'), port)).server;
      const upAfter = await until('healthy', 1000);
      assert.ok(upAfter >= 190 && upAfter < 700, `healthy ${upAfter} ms after the restart`);

      assert.deepEqual(
        changes.map((c) => [c.key, c.previous, c.state]),
        [
          ['app/east', 'unknown', 'healthy'],
          ['app/east', 'healthy', 'unhealthy'],
          ['app/east', 'unhealthy', 'healthy'],
        ],
      );
      const snap = monitor.snapshot('app/east')!;
      assert.equal(snap.transitions.length, 3);
      assert.equal(snap.since, snap.transitions[2]?.at);
    } finally {
      await monitor.stop();
      await closeHttp(server);
    }
  });

  it('keeps the period without overlapping rounds when a round is slow, and stops on unwatch', async () => {
    const { server, port } = await httpServer((_req, res) => res.writeHead(200).end());
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const rounds: number[] = [];
    const monitor = new HealthMonitor({ onChange: () => undefined, onRound: (_key, round) => void rounds.push(round.passing) });
    try {
      monitor.watch('slow', {
        check: checkHealthCheckSpec({ port, intervalMs: 100, timeoutMs: 50 }),
        // Listing the targets takes longer than the interval: the next round must wait for this one, then start at once.
        targets: async () => {
          starts.push(Date.now());
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setTimeout(r, 150));
          inFlight--;
          return [HOST];
        },
      });
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(maxInFlight, 1);
      assert.ok(starts.length >= 3 && starts.length <= 5, `${starts.length} rounds in 700 ms`);
      for (let i = 1; i < starts.length; i++) {
        const gap = starts[i]! - starts[i - 1]!;
        assert.ok(gap >= 145 && gap < 300, `gap ${gap} ms`);
      }
      assert.ok(monitor.unwatch('slow'));
      assert.equal(monitor.unwatch('slow'), false);
      assert.equal(monitor.state('slow'), undefined);
      const seen = starts.length;
      const reported = rounds.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(starts.length <= seen, 'no round starts after unwatch');
      assert.ok(rounds.length <= reported, 'a round in flight at unwatch reports nothing');
    } finally {
      await monitor.stop();
      await closeHttp(server);
    }
  });

  it('skips a round whose targets cannot be listed, rather than count it against the site', async () => {
    const warnings: string[] = [];
    const monitor = new HealthMonitor({ onChange: () => undefined, log: { warn: (_obj, msg) => void warnings.push(msg ?? '') } });
    try {
      let calls = 0;
      monitor.watch('k', {
        check: checkHealthCheckSpec({ port: await freePort(), intervalMs: 100, timeoutMs: 50, fall: 1 }),
        targets: () => {
          calls++;
          throw new Error('inventory unreachable');
        },
      });
      await new Promise((r) => setTimeout(r, 350));
      assert.ok(calls >= 3, `${calls} rounds`);
      assert.deepEqual([monitor.state('k'), monitor.snapshot('k')?.rounds.length], ['unknown', 0]);
      assert.equal(warnings.length, calls);
      assert.match(warnings[0]!, /could not list the targets/);
    } finally {
      await monitor.stop();
    }
  });

  it('keeps a key’s verdict when it is watched again with the same check, and starts over with another', async () => {
    const { server, port } = await httpServer((_req, res) => res.writeHead(200).end());
    const monitor = new HealthMonitor({ onChange: () => undefined });
    try {
      const check = checkHealthCheckSpec({ port, intervalMs: 100, timeoutMs: 50, fall: 1, rise: 1 });
      monitor.watch('k', { check, targets: () => [HOST] });
      const deadline = Date.now() + 1000;
      while (monitor.state('k') !== 'healthy' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(monitor.state('k'), 'healthy');
      monitor.watch('k', { check: { ...check }, targets: () => [HOST, HOST] });
      assert.equal(monitor.state('k'), 'healthy');
      monitor.watch('k', { check: { ...check, rise: 2 }, targets: () => [HOST] });
      assert.equal(monitor.state('k'), 'unknown');
      assert.deepEqual(monitor.snapshot('k')?.rounds, []);
      assert.throws(() => monitor.watch('bad', { check: { ...check, timeoutMs: 100 }, targets: () => [] }), {
        field: 'check.timeoutMs',
      });
      assert.throws(() => monitor.watch('bad', { check, targets: () => [], minHealthy: 0 }), { field: 'minHealthy' });
      assert.deepEqual(monitor.keys(), ['k']);
    } finally {
      await monitor.stop();
      await closeHttp(server);
    }
  });
});
