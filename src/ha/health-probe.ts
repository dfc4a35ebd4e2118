/** One health probe of one target (an HTTP GET or a TCP connect), bounded by the check's timeout; never throws. */
import { request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SkygateError } from '../core/errors.js';
import type { HealthCheckSpec } from './health-check-spec.js';

export interface ProbeResult {
  ok: boolean;
  /** When the probe started (ISO 8601). */
  at: string;
  latencyMs: number;
  /** What was seen, for an operator: "HTTP 200", "connection refused", "timed out after 500 ms". */
  detail: string;
  /** The probed `address:port`, so a failing round can say which target failed. */
  target: string;
}

/** The reasons an operator recognises, for the socket errors a probe meets most. */
const ERROR_DETAILS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed by the target',
};

class ProbeTimeout extends Error {}

function describeError(e: unknown, timeoutMs: number): string {
  if (e instanceof ProbeTimeout) return `timed out after ${timeoutMs} ms`;
  const err = e as NodeJS.ErrnoException;
  const known = err.code === undefined ? undefined : ERROR_DETAILS[err.code];
  if (known !== undefined) return known;
  if (err.code?.startsWith('HPE_')) return `bad HTTP response (${err.code})`;
  return err.code ?? err.message ?? String(e);
}

/** Probes `address` (an IP or host name) on `check.port` as the check says. */
export function probeOnce(address: string, check: HealthCheckSpec): Promise<ProbeResult> {
  const at = new Date().toISOString();
  const started = performance.now();
  const target = address.includes(':') ? `[${address}]:${check.port}` : `${address}:${check.port}`;
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      resolve({ ok, at, latencyMs: Math.round(performance.now() - started), detail, target });
    };
    const fail = (e: unknown) => finish(false, describeError(e, check.timeoutMs));
    try {
      if (check.protocol === 'tcp') probeTcp(address, check, finish, fail);
      else probeHttp(address, check, finish, fail);
    } catch (e) {
      fail(e); // e.g. an address node refuses outright
    }
  });
}

type Finish = (ok: boolean, detail: string) => void;
type Fail = (e: unknown) => void;

function probeHttp(address: string, check: HealthCheckSpec, finish: Finish, fail: Fail): void {
  const expect = check.expectStatus ?? 200;
  const req = request({
    host: address,
    port: check.port,
    path: check.path ?? '/healthz',
    method: 'GET',
    // A fresh connection each time: a pooled one to a dead server would hide its death until the pool noticed.
    agent: false,
    headers: { connection: 'close', 'user-agent': 'skygate-health' },
    // Socket inactivity; the deadline below bounds the whole probe (connect, headers) however the bytes trickle.
    timeout: check.timeoutMs,
  });
  const deadline = setTimeout(() => req.destroy(new ProbeTimeout()), check.timeoutMs);
  req.on('timeout', () => req.destroy(new ProbeTimeout()));
  req.on('close', () => clearTimeout(deadline));
  req.on('error', fail);
  req.on('response', (res) => {
    const status = res.statusCode ?? 0;
    finish(status === expect, status === expect ? `HTTP ${status}` : `HTTP ${status}, expected ${expect}`);
    // The status is the verdict: drop the body and the connection rather than wait on a body that may never end.
    res.on('error', () => undefined);
    req.destroy();
  });
  req.end();
}

function probeTcp(address: string, check: HealthCheckSpec, finish: Finish, fail: Fail): void {
  const socket = connect({ host: address, port: check.port });
  const deadline = setTimeout(() => socket.destroy(new ProbeTimeout()), check.timeoutMs);
  socket.on('close', () => clearTimeout(deadline));
  socket.on('error', fail);
  socket.on('connect', () => {
    finish(true, 'connected');
    socket.destroy();
  });
}

/**
 * Resolves once `rise` probes of `address` in a row pass, `pauseMs` apart; at the deadline, a `timeout` that names
 * the last probe's detail. `probe` is `probeOnce` unless a test gives another.
 */
export async function untilPassing(
  address: string,
  check: HealthCheckSpec,
  opts: {
    timeoutMs: number;
    pauseMs: number;
    probe?: (address: string, check: HealthCheckSpec) => Promise<{ ok: boolean; detail: string }>;
  },
): Promise<void> {
  const probe = opts.probe ?? probeOnce;
  const deadline = Date.now() + opts.timeoutMs;
  let streak = 0;
  for (;;) {
    const result = await probe(address, check);
    streak = result.ok ? streak + 1 : 0;
    if (streak >= Math.max(1, check.rise)) return;
    if (Date.now() + opts.pauseMs > deadline) {
      throw new SkygateError(
        'timeout',
        `standby ${address}:${check.port} did not pass its health check within ${opts.timeoutMs} ms (last: ${result.detail})`,
      );
    }
    await sleep(opts.pauseMs);
  }
}
