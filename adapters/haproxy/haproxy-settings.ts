/** The HAProxy adapter's settings: where the runtime API listens, which backends are pools, how added servers are checked. */
import { isIP } from 'node:net';
import { SkygateError } from '../../src/core/index.js';

export type SocketEndpoint = { path: string } | { host: string; port: number };

export interface HaproxySettings {
  socket: SocketEndpoint;
  /** The backends offered as pools; every backend when absent. */
  backends?: string[];
  /**
   * Keywords every server skygate adds gets: `add server` takes nothing from `default-server`, so the health check
   * an operator wants must be said here again.
   */
  serverOptions: string;
  /** How long one runtime API command may take. */
  timeoutMs: number;
}

export const DEFAULT_SERVER_OPTIONS = 'check inter 1s fall 2 rise 2';
export const DEFAULT_TIMEOUT_MS = 2000;
/** HAProxy's names: letters, digits and `_ . : -` (anything else could split a runtime API command). */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const KNOWN = new Set(['socket', 'backends', 'serverOptions', 'timeoutMs']);

export function parseHaproxySettings(providerId: string, raw: Record<string, unknown>): HaproxySettings {
  const bad = (field: string, reason: string) =>
    new SkygateError('invalid_input', `haproxy load balancer '${providerId}': setting ${field} ${reason}`, {
      field,
      provider: providerId,
      errors: [{ field, reason }],
    });
  for (const key of Object.keys(raw)) {
    if (!KNOWN.has(key)) throw bad(key, `is not a setting (use ${[...KNOWN].join(', ')})`);
  }
  const backends = raw.backends;
  if (
    backends !== undefined &&
    (!Array.isArray(backends) || backends.length === 0 || !backends.every((b) => typeof b === 'string' && NAME_PATTERN.test(b)))
  ) {
    throw bad('backends', 'must be a non-empty list of backend names');
  }
  const serverOptions = raw.serverOptions ?? DEFAULT_SERVER_OPTIONS;
  if (typeof serverOptions !== 'string' || serverOptions.length > 1000 || /[\n\r;#\\]/.test(serverOptions)) {
    throw bad('serverOptions', 'must be server keywords on one line, without ; # or backslashes');
  }
  const timeoutMs = raw.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw bad('timeoutMs', 'must be a whole number of milliseconds above 0');
  }
  return {
    socket: parseSocket(raw.socket, bad),
    ...(backends !== undefined && { backends: backends as string[] }),
    serverOptions: serverOptions.trim(),
    timeoutMs,
  };
}

/** `/run/haproxy/admin.sock` (or `unix@…`) for a unix socket; `127.0.0.1:9999` (or `tcp://…`, `ipv4@…`) for TCP. */
function parseSocket(raw: unknown, bad: (field: string, reason: string) => SkygateError): SocketEndpoint {
  const hint = 'must be the stats socket with level admin: an absolute unix socket path, or host:port';
  if (typeof raw !== 'string' || raw.length === 0) throw bad('socket', hint);
  const unix = raw.startsWith('unix@') ? raw.slice('unix@'.length) : raw;
  if (unix.startsWith('/')) return { path: unix };
  const hostPort = raw.replace(/^(tcp:\/\/|ipv4@|ipv6@)/, '');
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(hostPort);
  const port = Number(m?.[2]);
  if (m === null || isIP(m[1] ?? '') === 0 || port < 1 || port > 65535) throw bad('socket', `${hint} (got '${raw}')`);
  return { host: m[1]!, port };
}

export const describeEndpoint = (e: SocketEndpoint): string => ('path' in e ? e.path : `${e.host}:${e.port}`);
