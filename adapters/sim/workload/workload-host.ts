/** The adapter's side of the workload host: starts the child on first need, tells it what to serve, notices its death. */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostReply, ServedInstance } from './workload-protocol.js';

/** idle: no child yet (nothing to serve); up: serving; down: killed or died, and left down until `start()`. */
export type HostState = 'idle' | 'up' | 'down';

export interface WorkloadHostStatus {
  state: HostState;
  pid?: number;
  /** Instance ids being served. */
  serving: string[];
  /** Instances the host could not serve on the last sync (an address in use, an unreadable disk). */
  failed: Array<{ instanceId: string; error: string }>;
  /** How the last host process ended, if one did. */
  lastExit?: { code: number | null; signal: string | null; at: string };
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Long enough for a cold `tsx` start on a busy two-core machine. */
const REPLY_TIMEOUT_MS = 20_000;
const EXIT_GRACE_MS = 2_000;

export class WorkloadHost {
  private child?: ChildProcess;
  private starting?: Promise<ChildProcess>;
  private down = false;
  private closing = false;
  private seq = 0;
  private readonly waiting = new Map<number, (reply: Extract<HostReply, { kind: 'synced' }> | Error) => void>();
  private serving: string[] = [];
  private failed: WorkloadHostStatus['failed'] = [];
  private lastExit?: WorkloadHostStatus['lastExit'];

  constructor(
    private readonly providerId: string,
    private readonly log: Log,
  ) {}

  /**
   * Converges the host on `instances`. Starts the child when there is something to serve; while the host is down
   * (killed), does nothing: that fault lasts until `start()`.
   */
  async sync(instances: ServedInstance[]): Promise<void> {
    if (this.down || this.closing) return;
    if (instances.length === 0 && this.child === undefined && this.starting === undefined) return;
    const child = await this.spawned();
    const seq = ++this.seq;
    const reply = await new Promise<Extract<HostReply, { kind: 'synced' }> | Error>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        resolve(new Error(`the workload host did not answer within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      const answer = (r: Extract<HostReply, { kind: 'synced' }> | Error) => {
        clearTimeout(timer);
        this.waiting.delete(seq);
        resolve(r);
      };
      this.waiting.set(seq, answer);
      // With a callback, a channel that closed under us (the host just died) is an answer, not an 'error' event.
      child.send({ kind: 'sync', seq, instances }, (err) => {
        if (err) answer(err);
      });
    });
    if (reply instanceof Error) {
      this.log.warn({ provider: this.providerId, err: reply.message }, 'sim: workload host sync failed');
      return;
    }
    if (seq < this.seq) return; // a later sync's answer is the one that counts
    this.serving = reply.serving;
    this.failed = reply.failed;
    for (const f of reply.failed) {
      this.log.warn({ provider: this.providerId, instance: f.instanceId, err: f.error }, 'sim: a workload could not start');
    }
  }

  /**
   * The harder fault: SIGKILL the host, and answer once it is gone. Every workload of the provider stops answering;
   * the API still says running.
   */
  async kill(): Promise<void> {
    this.down = true;
    const child = this.child ?? (await this.starting?.catch(() => undefined));
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Ends the `down` state; the next sync starts a new host that serves every running workload again. */
  start(): void {
    this.down = false;
  }

  status(): WorkloadHostStatus {
    const state: HostState = this.down ? 'down' : this.child === undefined ? 'idle' : 'up';
    return {
      state,
      ...(this.child?.pid !== undefined && state === 'up' && { pid: this.child.pid }),
      serving: state === 'up' ? [...this.serving] : [],
      failed: [...this.failed],
      ...(this.lastExit !== undefined && { lastExit: { ...this.lastExit } }),
    };
  }

  /** Stops the host: it exits on its own once the IPC channel closes; SIGKILL if it has not after a grace period. */
  async close(): Promise<void> {
    this.closing = true;
    const child = this.child ?? (await this.starting?.catch(() => undefined));
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawned(): Promise<ChildProcess> {
    if (this.child !== undefined) return Promise.resolve(this.child);
    this.starting ??= this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<ChildProcess> {
    const { file, execArgv } = hostEntry();
    // stderr is inherited so a crash of the host shows in the gateway's output; everything else goes over IPC.
    const child = fork(file, [this.providerId], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const early = (code: number | null, signal: string | null) =>
        reject(new Error(`the workload host exited while starting (code ${code}, signal ${signal})`));
      child.once('exit', early);
      child.once('error', reject);
      child.on('message', (m: HostReply) => {
        if (m.kind === 'ready') {
          child.off('exit', early);
          child.off('error', reject);
          this.adopt(child);
          resolve(child);
        } else if (m.kind === 'synced') {
          this.waiting.get(m.seq)?.(m);
        }
      });
    });
  }

  private adopt(child: ChildProcess): void {
    this.child = child;
    child.on('error', (err) => this.log.warn({ provider: this.providerId, err: err.message }, 'sim: workload host error'));
    this.log.info({ provider: this.providerId, pid: child.pid }, 'sim: workload host started');
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.lastExit = { code, signal, at: new Date().toISOString() };
      this.serving = [];
      for (const answer of [...this.waiting.values()]) {
        answer(new Error(`the workload host exited (code ${code}, signal ${signal})`));
      }
      if (this.closing) return;
      // However it died (our kill() or someone's kill -9), the host stays down until start(): a crashed
      // hypervisor does not come back by itself, and a fault that healed on the next API call would prove nothing.
      this.down = true;
      this.log.warn({ provider: this.providerId, pid: child.pid, code, signal }, 'sim: workload host is down');
    });
  }
}

/** The child's entry: the .ts file through tsx when running from source, the compiled .js otherwise. */
function hostEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  return {
    file: join(dirname(here), fromSource ? 'workload-process.ts' : 'workload-process.js'),
    // Resolved from here rather than by name, so the child starts whatever the gateway's working directory.
    execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
  };
}
