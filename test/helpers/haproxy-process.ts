/**
 * Debian's haproxy, started by a test with a config the test writes: frontends on 127.0.0.1 at free ports, its own
 * admin socket in a temp dir, in the foreground (`-db`) so the test can stop, kill and restart it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './http-probe.js';

export interface TestBackend {
  name: string;
  /** Server lines as in the configuration file, e.g. `server a 127.10.0.4:8000 check`. */
  servers?: string[];
  /** Extra backend lines (health check, balance...); defaults to `balance roundrobin`. */
  lines?: string[];
}

export function haproxyBinary(): string {
  if (process.env.HAPROXY_BIN) return process.env.HAPROXY_BIN;
  if (existsSync('/usr/sbin/haproxy')) return '/usr/sbin/haproxy';
  return 'haproxy';
}

export class TestHaproxy {
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly config: string,
    /** The admin socket (stats socket, level admin). */
    readonly socket: string,
    /** The frontend that routes to the first backend. */
    readonly url: string,
  ) {}

  /** Writes the config and starts haproxy; `defaults` lines replace the documented retry and timeout set. */
  static async start(backends: TestBackend[], defaults?: string[]): Promise<TestHaproxy> {
    const dir = await mkdtemp(join(tmpdir(), 'skygate-haproxy-'));
    const port = await freePort();
    const socket = join(dir, 'admin.sock');
    const text = [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      'defaults',
      '  mode http',
      ...(
        defaults ?? [
          '  timeout connect 500ms',
          '  timeout client 10s',
          '  timeout server 10s',
          '  retries 3',
          '  option redispatch 1',
          '  retry-on conn-failure empty-response response-timeout',
        ]
      ).map((l) => `  ${l.trim()}`),
      'frontend web',
      `  bind 127.0.0.1:${port}`,
      `  default_backend ${backends[0]?.name ?? 'app'}`,
      ...backends.flatMap((b) => [
        `backend ${b.name}`,
        ...(b.lines ?? ['balance roundrobin']).map((l) => `  ${l}`),
        ...(b.servers ?? []).map((l) => `  ${l}`),
      ]),
      '',
    ].join('\n');
    const config = join(dir, 'haproxy.cfg');
    await writeFile(config, text);
    const ha = new TestHaproxy(dir, config, socket, `http://127.0.0.1:${port}`);
    await ha.launch();
    return ha;
  }

  /** What haproxy printed (warnings, alerts), for assertion messages. */
  get log(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops it the way a service manager would (SIGTERM, SIGKILL after 5 s) and starts it again from the same file. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const child = spawn(haproxyBinary(), ['-f', this.config, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (d: Buffer) => {
      this.output += d.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${haproxyBinary()} (apt-get install haproxy): ${e.message}`)));
      child.once('exit', (code) => reject(new Error(`haproxy exited with code ${code}:\n${this.output}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await answers(this.socket))) {
      await Promise.race([sleep(25), failed]);
      if (Date.now() > deadline) throw new Error(`haproxy's admin socket did not answer within 10 s:\n${this.output}`);
    }
  }
}

/** True when the admin socket takes a connection (haproxy has finished starting). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
