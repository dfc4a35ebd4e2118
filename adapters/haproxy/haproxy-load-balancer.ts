/**
 * A LoadBalancerAdapter over HAProxy's runtime API: a backend is a pool, a server a target. Targets are added and
 * removed with `add server` / `del server` (HAProxy 2.5 or later), so no reload ever drops a connection; HAProxy
 * forgets these changes when it restarts or reloads, which is why skygate keeps the desired state and re-applies it
 * (src/ha/lb-reconciler.ts).
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SkygateError,
  conflict,
  invalid,
  notFound,
  toSkygateError,
  type AdapterContext,
  type LbTarget,
  type LbTargetSpec,
  type LoadBalancerAdapter,
  type TargetState,
} from '../../src/core/index.js';
import { NAME_PATTERN, parseHaproxySettings, type HaproxySettings } from './haproxy-settings.js';
import { RuntimeApi } from './runtime-api.js';
import { parseBackends, parseServersState, targetIdOf, toLbTarget, type ServerState } from './servers-state.js';

const MAX_WEIGHT = 256;
const STATE_WORD: Record<TargetState, string> = { active: 'ready', draining: 'drain', maintenance: 'maint' };
/** Answers of commands that succeed silently. */
const SILENT = /^$/;
/** `del server` waits for a removed server's last connections to close; this long at most. */
const DELETE_WAIT_MS = 3000;

/** HAProxy's error answers, and what each means in the taxonomy. */
const ANSWERS: Array<[RegExp, (text: string, pool: string, target?: string) => SkygateError]> = [
  [/^No such backend\.|^Can't find backend\./, (_t, pool) => notFound('pool', pool, 'poolId')],
  [/^No such server\./, (_t, _p, target) => notFound('target', target ?? '?', 'targetId')],
  [/^Permission denied/, (t) => new SkygateError('forbidden', `haproxy: ${t} (the stats socket needs 'level admin')`)],
  [
    /^Unknown command/,
    () =>
      new SkygateError(
        'unsupported',
        'haproxy: the runtime API does not know this command (add/del server need HAProxy 2.5 or later)',
      ),
  ],
  [
    /dynamic load balancing/,
    (_t, pool) =>
      new SkygateError(
        'unsupported',
        `haproxy: backend '${pool}' uses a static balance algorithm; servers cannot be added at runtime`,
        {
          field: 'poolId',
        },
      ),
  ],
  [/^Already exists a server/, (t) => conflict(`haproxy: ${t}`)],
];

export class HaproxyLoadBalancerAdapter implements LoadBalancerAdapter {
  readonly type = 'haproxy';
  readonly extensions = {
    /** `show info` as name/value pairs: version, pid and uptime tell whether HAProxy restarted. */
    info: async (): Promise<Record<string, string>> =>
      this.guard(async () => {
        const text = await this.api.run('show info');
        return Object.fromEntries(
          text.split('\n').flatMap((l) => {
            const i = l.indexOf(':');
            return i > 0 ? [[l.slice(0, i).trim(), l.slice(i + 1).trim()]] : [];
          }),
        );
      }),
  };

  private constructor(
    readonly providerId: string,
    private readonly settings: HaproxySettings,
    private readonly api: RuntimeApi,
  ) {}

  /** Checks the settings only: HAProxy may start after the gateway, and every call reports it unreachable until then. */
  static open(ctx: AdapterContext): HaproxyLoadBalancerAdapter {
    const settings = parseHaproxySettings(ctx.providerId, ctx.settings);
    return new HaproxyLoadBalancerAdapter(
      ctx.providerId,
      settings,
      new RuntimeApi(ctx.providerId, settings.socket, settings.timeoutMs),
    );
  }

  async listPools(): Promise<Array<{ id: string; name: string }>> {
    return this.guard(async () => {
      const backends = parseBackends(await this.api.run('show backend'));
      const offered = this.settings.backends;
      return backends.filter((b) => offered === undefined || offered.includes(b)).map((b) => ({ id: b, name: b }));
    });
  }

  async listTargets(poolId: string): Promise<LbTarget[]> {
    return this.guard(async () => (await this.servers(poolId)).map(toLbTarget));
  }

  /**
   * Adds a server named `sg-<address>-<port>` with the configured server options, enables its health check, and sets
   * it to `spec.state` (HAProxy creates it in maintenance, so a target meant to stay out never takes a request).
   * Registering an address:port the pool already holds only updates its weight.
   */
  async registerTarget(poolId: string, spec: LbTargetSpec): Promise<LbTarget> {
    return this.guard(async () => {
      const address = checkAddress(spec?.address);
      const port = checkPort(spec?.port);
      if (spec.weight !== undefined) checkWeight(spec.weight);
      if (spec.state !== undefined && !(spec.state in STATE_WORD))
        throw invalid('state', 'must be active, draining or maintenance');
      const id = `${address}:${port}`;
      const servers = await this.servers(poolId);
      const existing = servers.find((s) => targetIdOf(s) === id);
      if (existing !== undefined) return this.reweigh(poolId, existing, spec.weight);
      const name = freeName(servers, address, port);
      const added = await this.api.run(
        `add server ${poolId}/${name} ${hostPort(address, port)} weight ${spec.weight ?? 1} ${this.settings.serverOptions}`.trim(),
      );
      if (!/New server registered/.test(added)) {
        // Another caller registered the same target between our read and our add: theirs stands.
        const raced = (await this.servers(poolId)).find((s) => targetIdOf(s) === id);
        if (raced !== undefined) return this.reweigh(poolId, raced, spec.weight);
        throw this.refusal(added, poolId, id);
      }
      if (/(^|\s)check(\s|$)/.test(this.settings.serverOptions))
        await this.expect(`enable health ${poolId}/${name}`, SILENT, poolId, id);
      const state = spec.state ?? 'active';
      if (state !== 'maintenance')
        await this.expect(`set server ${poolId}/${name} state ${STATE_WORD[state]}`, SILENT, poolId, id);
      return toLbTarget(await this.server(poolId, id));
    });
  }

  /**
   * Maintenance first (`del server` requires it, and it stops new requests), then the server's sessions are shut
   * down and it is deleted once its last connection has closed. A server from the configuration file can be deleted
   * too, unless another part of the configuration refers to it (then `conflict`).
   */
  async deregisterTarget(poolId: string, targetId: string): Promise<void> {
    return this.guard(async () => {
      const s = await this.server(poolId, targetId);
      const ref = `${poolId}/${s.name}`;
      await this.expect(`set server ${ref} state maint`, SILENT, poolId, targetId);
      await this.expect(`shutdown sessions server ${ref}`, SILENT, poolId, targetId);
      const deadline = Date.now() + DELETE_WAIT_MS;
      for (;;) {
        const answer = await this.api.run(`del server ${ref}`);
        if (/Server deleted/.test(answer)) return;
        if (!/still has connections/.test(answer) || Date.now() > deadline) throw this.refusal(answer, poolId, targetId);
        await sleep(50);
      }
    });
  }

  async setTargetState(poolId: string, targetId: string, state: TargetState): Promise<void> {
    return this.guard(async () => {
      if (!(state in STATE_WORD)) throw invalid('state', 'must be active, draining or maintenance');
      const s = await this.server(poolId, targetId);
      await this.expect(`set server ${poolId}/${s.name} state ${STATE_WORD[state]}`, SILENT, poolId, targetId);
    });
  }

  async setTargetWeight(poolId: string, targetId: string, weight: number): Promise<LbTarget> {
    return this.guard(async () => {
      checkWeight(weight);
      return this.reweigh(poolId, await this.server(poolId, targetId), weight);
    });
  }

  /** `set server … addr … port …`: the same server (state, weight, check) sends traffic elsewhere from now on. */
  async setTargetAddress(poolId: string, targetId: string, to: { address: string; port: number }): Promise<LbTarget> {
    return this.guard(async () => {
      const address = checkAddress(to?.address);
      const port = checkPort(to?.port);
      const id = `${address}:${port}`;
      const servers = await this.servers(poolId);
      const s = servers.find((x) => targetIdOf(x) === targetId);
      if (s === undefined) throw notFound('target', targetId, 'targetId');
      if (id !== targetId && servers.some((x) => targetIdOf(x) === id))
        throw conflict(`pool ${poolId} already holds a target at ${id}`, 'address');
      await this.expect(
        `set server ${poolId}/${s.name} addr ${address} port ${port}`,
        /changed|no need to change/,
        poolId,
        targetId,
      );
      return toLbTarget(await this.server(poolId, id));
    });
  }

  async close(): Promise<void> {
    // One connection per command: nothing is held open between calls.
  }

  private async reweigh(poolId: string, s: ServerState, weight: number | undefined): Promise<LbTarget> {
    if (weight === undefined || weight === s.weight) return toLbTarget(s);
    await this.expect(`set server ${poolId}/${s.name} weight ${weight}`, SILENT, poolId, targetIdOf(s));
    return toLbTarget(await this.server(poolId, targetIdOf(s)));
  }

  /** The servers of a pool; `not_found` for a backend HAProxy does not have or the settings do not offer. */
  private async servers(poolId: string): Promise<ServerState[]> {
    if (typeof poolId !== 'string' || !NAME_PATTERN.test(poolId)) throw invalid('poolId', 'must be a HAProxy backend name');
    if (this.settings.backends !== undefined && !this.settings.backends.includes(poolId))
      throw notFound('pool', poolId, 'poolId');
    const text = await this.api.run(`show servers state ${poolId}`);
    const refused = ANSWERS.find(([re]) => re.test(text));
    if (refused !== undefined) throw refused[1](text, poolId);
    return parseServersState(text);
  }

  private async server(poolId: string, targetId: string): Promise<ServerState> {
    const s = (await this.servers(poolId)).find((x) => targetIdOf(x) === targetId);
    if (s === undefined) throw notFound('target', String(targetId), 'targetId');
    return s;
  }

  private async expect(command: string, ok: RegExp, poolId: string, targetId?: string): Promise<string> {
    const answer = await this.api.run(command);
    if (!ok.test(answer)) throw this.refusal(answer, poolId, targetId);
    return answer;
  }

  private refusal(answer: string, poolId: string, targetId?: string): SkygateError {
    const known = ANSWERS.find(([re]) => re.test(answer));
    // An answer this adapter does not know is HAProxy declining the change as things stand.
    return known?.[1](answer, poolId, targetId) ?? conflict(`haproxy refused: ${answer.split('\n')[0]}`);
  }

  /** Every error leaves in the taxonomy and names this provider. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = toSkygateError(e, this.providerId);
      if (err.provider !== undefined) throw err;
      throw new SkygateError(err.code, err.message, {
        field: err.field,
        errors: err.errors,
        provider: this.providerId,
        cause: e,
      });
    }
  }
}

function checkAddress(address: unknown): string {
  // An IP only: a dynamic server is created with init-addr none, so HAProxy would never resolve a host name.
  if (typeof address !== 'string' || isIP(address) === 0) throw invalid('address', 'must be an IPv4 or IPv6 address');
  return address;
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid('port', 'must be 1..65535');
  return port;
}

function checkWeight(weight: unknown): void {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
    throw invalid('weight', `must be an integer from 0 to ${MAX_WEIGHT}`);
  }
}

const hostPort = (address: string, port: number): string => (isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** `sg-<address>-<port>`, with a suffix if a server moved by `set server … addr` already holds that name. */
function freeName(servers: ServerState[], address: string, port: number): string {
  const base = `sg-${address.replaceAll(':', '_')}-${port}`;
  const taken = new Set(servers.map((s) => s.name));
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  return name;
}
