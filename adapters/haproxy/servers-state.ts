/** Reading HAProxy's `show servers state` and `show backend` answers, and what a server's flags mean as an LbTarget. */
import { SkygateError, type LbTarget, type TargetHealth, type TargetState } from '../../src/core/index.js';

/** One server as `show servers state` (format 1) reports it. */
export interface ServerState {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** A mask: 0x01 forced maint, 0x02 inherited maint, 0x04 config maint, 0x08 forced drain, 0x10 inherited drain, 0x20 resolution maint. */
  adminState: number;
  weight: number;
  /** A mask: 0x02 configured, 0x04 enabled, 0x08 paused. */
  checkState: number;
}

const MAINT = 0x01 | 0x02 | 0x04 | 0x20;
const DRAIN = 0x08 | 0x10;
const CHECK_ENABLED = 0x04;
const RUNNING = 2;
const STARTING = 1;

/** Column positions in format 1 (management guide, "show servers state"). */
const COL = { backend: 1, name: 3, address: 4, opState: 5, adminState: 6, weight: 7, checkState: 13, port: 18 } as const;

export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n').map((l) => l.trim());
  const version = lines.find((l) => l.length > 0 && !l.startsWith('#'));
  if (version !== '1') {
    throw new SkygateError('internal', `haproxy: unexpected 'show servers state' format (version line '${version ?? ''}')`);
  }
  const out: ServerState[] = [];
  for (const line of lines.slice(lines.indexOf(version) + 1)) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length <= COL.port) throw new SkygateError('internal', `haproxy: short 'show servers state' line: ${line}`);
    out.push({
      backend: f[COL.backend]!,
      name: f[COL.name]!,
      address: f[COL.address]!,
      port: Number(f[COL.port]),
      opState: Number(f[COL.opState]),
      adminState: Number(f[COL.adminState]),
      weight: Number(f[COL.weight]),
      checkState: Number(f[COL.checkState]),
    });
  }
  return out;
}

/** `show backend`: a `# name` header, then one name a line. */
export function parseBackends(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** A server's id is where it sends traffic, `address:port`, whatever its name in the configuration. */
export const targetIdOf = (s: ServerState): string => `${s.address}:${s.port}`;

/**
 * Maintenance wins over drain, as in HAProxy. Health is the check's verdict for a ready or draining server; a
 * server without an enabled check is `unknown` (HAProxy sends it traffic, but nobody has looked).
 */
export function toLbTarget(s: ServerState): LbTarget {
  const state: TargetState = s.adminState & MAINT ? 'maintenance' : s.adminState & DRAIN ? 'draining' : 'active';
  let health: TargetHealth;
  if (state !== 'active') health = state;
  else if ((s.checkState & CHECK_ENABLED) === 0) health = 'unknown';
  else health = s.opState === RUNNING || s.opState === STARTING ? 'healthy' : 'unhealthy';
  return { id: targetIdOf(s), address: s.address, port: s.port, state, health, weight: s.weight };
}
