/** A real gateway for tests: `src/server/main.ts` (or `npm start`) as a child process on a free port, with its own data dir. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import type { Operation } from '../../src/core/model.js';
import { assertMatchesSpec } from './gateway.js';

/** The checkout the tests run from: the gateway runs from here whatever the test's working directory. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface GatewayProcessOptions {
  /** The data directory (SKYGATE_DATA_DIR); a new temporary one, removed by `close()`, when not given. */
  dataDir?: string;
  /** More SKYGATE_* settings, as an operator would set them. */
  env?: Record<string, string>;
  port?: number;
  /** A config file's text (YAML), written into the data directory and named by SKYGATE_CONFIG. */
  config?: string;
  /** `node` runs `node --import tsx src/server/main.ts`; `npm` runs `npm start`, as the README says. */
  via?: 'node' | 'npm';
  /** How long start-up may take before the test fails (a cold tsx compile takes seconds on a busy machine). */
  startTimeoutMs?: number;
}

export interface GatewayProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The admin token: SKYGATE_ADMIN_TOKEN when the test set one, else the one the gateway generated. */
  token: string;
  child: ChildProcess;
  /** Issues a request with the admin token (or `token`); every response is checked against the OpenAPI spec. */
  api(method: 'get' | 'post' | 'put' | 'delete', path: string, body?: unknown, token?: string): Promise<request.Response>;
  waitOperation(id: string, timeoutMs?: number): Promise<Operation>;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the process to end; fails after `timeoutMs` (and SIGKILLs it then). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the process if it still runs, and removes a data directory this helper made. */
  close(): Promise<void>;
}

/** A config with both sim clouds fast (`latencyMs`), for tests whose clients poll slowly (the AWS CLI's waiters). */
export const fastSims = (latencyMs = 20) =>
  `providers:\n${['sim-east', 'sim-west'].map((id) => `  - id: ${id}\n    type: sim\n    settings:\n      latencyMs: ${latencyMs}\n`).join('')}`;

/** A TCP port nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
  });

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });

/** Polls `check` until it answers true; fails with `what` once `timeoutMs` has passed. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: still not true after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export async function startGatewayProcess(opts: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'skygate-proc-')));
  const port = opts.port ?? (await freePort());
  const configFile = path.join(dataDir, 'skygate.yaml');
  if (opts.config !== undefined) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(configFile, opts.config);
  }
  // The runner's own SKYGATE_* settings (a config file, a database URL) must not reach the gateway under test.
  const inherited = Object.entries(process.env).filter(([k]) => !k.startsWith('SKYGATE_'));
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    SKYGATE_PORT: String(port),
    SKYGATE_DATA_DIR: dataDir,
    SKYGATE_LOG_LEVEL: 'info',
    ...(opts.config !== undefined && { SKYGATE_CONFIG: configFile }),
    ...opts.env,
  };
  const [command, args] = opts.via === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'src/server/main.ts']];
  const child = spawn(command, args as string[], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    log += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    log += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;

  const stop: GatewayProcess['stop'] = async (signal = 'SIGTERM', timeoutMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = sleep(timeoutMs).then(() => undefined);
    const how = await Promise.race([exited, timer]);
    if (how) return how;
    child.kill('SIGKILL');
    throw new Error(`the gateway (pid ${child.pid}) was still running ${timeoutMs} ms after ${signal}\n${log}`);
  };
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) await stop('SIGKILL').catch(() => undefined);
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await waitUntil(
      `the gateway on port ${port} answering /healthz`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the gateway exited while starting:\n${log}`);
        return fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
          (r) => r.ok,
          () => false,
        );
      },
      opts.startTimeoutMs ?? 30_000,
    );
    const token = opts.env?.SKYGATE_ADMIN_TOKEN ?? (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    const api: GatewayProcess['api'] = async (method, p, body, as = token) => {
      let req = request(url)[method](p).set('Authorization', `Bearer ${as}`).timeout(30_000);
      if (body !== undefined) req = req.send(body as object);
      const res = await req;
      assertMatchesSpec(method, p, res);
      return res;
    };
    const waitOperation: GatewayProcess['waitOperation'] = async (id, timeoutMs = 30_000) => {
      let op: Operation | undefined;
      await waitUntil(
        `operation ${id} finished`,
        async () => {
          op = (await api('get', `/v1/operations/${id}`)).body as Operation;
          return op.status === 'succeeded' || op.status === 'failed';
        },
        timeoutMs,
      );
      return op as Operation;
    };
    return { url, port, dataDir, token, child, api, waitOperation, output: () => log, exited, stop, close };
  } catch (e) {
    await close();
    throw e instanceof Error ? new Error(`${e.message}\n${log}`) : e;
  }
}
