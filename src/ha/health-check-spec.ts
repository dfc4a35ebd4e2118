/** A site's health check (HTTP or TCP, interval, timeout, fall, rise): its type, defaults and validation. */
import { invalid } from '../core/errors.js';

export interface HealthCheckSpec {
  protocol: 'http' | 'tcp';
  /** The port probed on each target's address (may differ from the port that carries traffic). */
  port: number;
  /** HTTP only: the path of the GET. */
  path?: string;
  /** HTTP only: the one status that counts as passing. */
  expectStatus?: number;
  /** Time from the start of one round of probes to the start of the next. */
  intervalMs: number;
  /** The longest one probe may take, connect included; always shorter than the interval. */
  timeoutMs: number;
  /** Consecutive failing rounds before a site is declared unhealthy. */
  fall: number;
  /** Consecutive passing rounds before a site is declared healthy. */
  rise: number;
}

/**
 * The defaults for every field a caller leaves out (port has none: it must be given). Interval 1 s with fall 2 detects
 * a dead site in about 2 s; rise 2 keeps one lucky probe from bringing a site back.
 */
export const HEALTH_CHECK_DEFAULTS = {
  protocol: 'http',
  path: '/healthz',
  expectStatus: 200,
  intervalMs: 1000,
  timeoutMs: 500,
  fall: 2,
  rise: 2,
} as const;

const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'protocol',
  'port',
  'path',
  'expectStatus',
  'intervalMs',
  'timeoutMs',
  'fall',
  'rise',
]);
/** An hour: longer intervals are not health checks, and setTimeout stays far from its 2^31 ms limit. */
const MAX_INTERVAL_MS = 3_600_000;
const MAX_THRESHOLD = 20;
const MAX_PATH_LENGTH = 1024;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Answers the check in a canonical form (defaults filled in), or throws `invalid_input` naming `field.sub`. */
export function checkHealthCheckSpec(raw: unknown, field = 'healthCheck'): HealthCheckSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(field, 'must be an object { protocol, port, path?, expectStatus?, intervalMs, timeoutMs, fall, rise }');
  }
  const given = raw as Record<string, unknown>;
  // A misspelt field (intervalMS) would otherwise be silently replaced by its default.
  for (const k of Object.keys(given)) {
    if (!KNOWN_FIELDS.has(k))
      throw invalid(`${field}.${k}`, `is not a health check field (known: ${[...KNOWN_FIELDS].join(', ')})`);
  }
  const {
    protocol = HEALTH_CHECK_DEFAULTS.protocol,
    port,
    intervalMs = HEALTH_CHECK_DEFAULTS.intervalMs,
    timeoutMs = HEALTH_CHECK_DEFAULTS.timeoutMs,
    fall = HEALTH_CHECK_DEFAULTS.fall,
    rise = HEALTH_CHECK_DEFAULTS.rise,
  } = given;

  if (protocol !== 'http' && protocol !== 'tcp') throw invalid(`${field}.protocol`, 'must be http or tcp');
  if (!isInt(port) || port < 1 || port > 65535) throw invalid(`${field}.port`, 'must be an integer from 1 to 65535');
  if (!isInt(intervalMs) || intervalMs < 100 || intervalMs > MAX_INTERVAL_MS) {
    throw invalid(`${field}.intervalMs`, `must be a whole number of milliseconds from 100 to ${MAX_INTERVAL_MS}`);
  }
  if (!isInt(timeoutMs) || timeoutMs < 50) throw invalid(`${field}.timeoutMs`, 'must be a whole number of milliseconds >= 50');
  if (timeoutMs >= intervalMs) {
    throw invalid(
      `${field}.timeoutMs`,
      `must be less than intervalMs (${timeoutMs} >= ${intervalMs}): a probe allowed to outlast its interval would overlap ` +
        'the next round, so the check could never keep its period (and a site slower than the interval could never pass)',
    );
  }
  for (const [name, v] of [
    ['fall', fall],
    ['rise', rise],
  ] as const) {
    if (!isInt(v) || v < 1 || v > MAX_THRESHOLD)
      throw invalid(`${field}.${name}`, `must be an integer from 1 to ${MAX_THRESHOLD}`);
  }
  const common = { port, intervalMs, timeoutMs, fall: fall as number, rise: rise as number };

  if (protocol === 'tcp') {
    for (const httpOnly of ['path', 'expectStatus'] as const) {
      if (given[httpOnly] !== undefined) throw invalid(`${field}.${httpOnly}`, 'applies only to protocol http');
    }
    return { protocol, ...common };
  }
  const { path = HEALTH_CHECK_DEFAULTS.path, expectStatus = HEALTH_CHECK_DEFAULTS.expectStatus } = given;
  // node:http refuses a path with a character outside \u0021-\u00ff; say so here, naming the field, not at probe time.
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > MAX_PATH_LENGTH || /[^\u0021-\u00ff]/.test(path)) {
    throw invalid(
      `${field}.path`,
      `must start with / and hold no spaces or control characters (percent-encode them), at most ${MAX_PATH_LENGTH} long`,
    );
  }
  if (!isInt(expectStatus) || expectStatus < 100 || expectStatus > 599) {
    throw invalid(`${field}.expectStatus`, 'must be an HTTP status from 100 to 599');
  }
  return { protocol, ...common, path, expectStatus };
}
