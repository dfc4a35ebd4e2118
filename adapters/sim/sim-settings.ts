/** The sim's settings: defaults, and validation that names the offending setting. */
import { SkygateError } from '../../src/core/index.js';
import { AddressBlock } from './sim-addresses.js';
import { NO_FAULTS, type SimFaults } from './sim-faults.js';

export interface SimQuotas {
  instances: number;
  vcpus: number;
  volumes: number;
  volumeGiB: number;
}

/** An image the sim adds on first open, tagged to run the workload (README: "Workload"). */
export interface WorkloadImageSeed {
  id: string;
  name: string;
}

export interface WorkloadSettings {
  /** The TCP port every workload instance serves on, at its own address. */
  port: number;
  images: WorkloadImageSeed[];
}

export interface SimSettings {
  latencyMs: number;
  zones: string[];
  quotas: SimQuotas;
  rateLimit?: { requestsPerSecond: number; burst: number };
  faults: SimFaults;
  terminatedRetentionMs: number;
  /** Where instances' private addresses come from: loopback, so a workload can listen on them. */
  addressBlock: AddressBlock;
  workload: WorkloadSettings;
}

export const DEFAULT_LATENCY_MS = 1000;
export const DEFAULT_RETENTION_MS = 60_000;
export const DEFAULT_QUOTAS: SimQuotas = { instances: 20_000, vcpus: 80_000, volumes: 20_000, volumeGiB: 1_000_000 };
/** Not 8080: a gateway bound to 0.0.0.0:8080 (the container's default) would keep every workload from binding it. */
export const DEFAULT_WORKLOAD_PORT = 8000;

const KNOWN = new Set([
  'latencyMs',
  'zones',
  'quotas',
  'rateLimit',
  'faults',
  'terminatedRetentionMs',
  'addressBlock',
  'workload',
]);
/** The ids the sim seeds itself; a workload image may not take one. */
const RESERVED_IMAGE_IDS = new Set(['img-ubuntu-22-04', 'img-debian-12', 'img-cirros-0-6']);

type Warn = (obj: object, msg?: string) => void;

export function parseSimSettings(providerId: string, raw: Record<string, unknown>, warn: Warn): SimSettings {
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k));
  // Warn rather than fail: a shared config block may carry keys meant for the sim load balancer.
  if (unknown.length > 0) warn({ provider: providerId, settings: unknown }, 'sim: ignoring unknown settings');
  const bad = settingError(providerId);
  return {
    latencyMs: nonNegative(raw.latencyMs, DEFAULT_LATENCY_MS, 'latencyMs', bad),
    zones: parseZones(raw.zones, [`${providerId}-a`, `${providerId}-b`], bad),
    quotas: parseQuotas(raw.quotas, bad),
    rateLimit: parseRateLimit(raw.rateLimit, bad),
    faults: parseFaults(raw.faults, NO_FAULTS, 'faults.', bad),
    terminatedRetentionMs: nonNegative(raw.terminatedRetentionMs, DEFAULT_RETENTION_MS, 'terminatedRetentionMs', bad),
    addressBlock: parseAddressBlock(raw.addressBlock, providerId, bad),
    workload: parseWorkload(raw.workload, bad),
  };
}

/** Validates a `setFaults` argument and merges it over the current faults. */
export function mergeFaults(current: SimFaults, patch: unknown): SimFaults {
  return parseFaults(patch, current, '', (field, reason) => {
    return new SkygateError('invalid_input', `setFaults: ${field} ${reason}`, { field, errors: [{ field, reason }] });
  });
}

type Bad = (field: string, reason: string) => SkygateError;

function settingError(providerId: string): Bad {
  return (field, reason) =>
    new SkygateError('invalid_input', `sim provider '${providerId}': setting ${field} ${reason}`, {
      field,
      provider: providerId,
      errors: [{ field, reason }],
    });
}

function parseFaults(raw: unknown, base: SimFaults, prefix: string, bad: Bad): SimFaults {
  if (raw === undefined || raw === null) return { ...base };
  const obj = record(raw, prefix === '' ? 'faults' : prefix.slice(0, -1), bad);
  for (const key of Object.keys(obj)) {
    if (!(key in NO_FAULTS)) throw bad(prefix + key, 'is not a fault setting (use errorRate, addedLatencyMs, outage)');
  }
  const errorRate = nonNegative(obj.errorRate, base.errorRate, `${prefix}errorRate`, bad);
  if (errorRate > 1) throw bad(`${prefix}errorRate`, `must be between 0 and 1 (got ${errorRate})`);
  if (obj.outage !== undefined && typeof obj.outage !== 'boolean') throw bad(`${prefix}outage`, 'must be true or false');
  return {
    errorRate,
    addedLatencyMs: nonNegative(obj.addedLatencyMs, base.addedLatencyMs, `${prefix}addedLatencyMs`, bad),
    outage: obj.outage ?? base.outage,
  };
}

function parseAddressBlock(raw: unknown, providerId: string, bad: Bad): AddressBlock {
  if (raw === undefined) return AddressBlock.defaultFor(providerId);
  const block = AddressBlock.parse(typeof raw === 'string' ? raw : JSON.stringify(raw));
  if (typeof block === 'string') throw bad('addressBlock', block);
  return block;
}

function parseWorkload(raw: unknown, bad: Bad): WorkloadSettings {
  if (raw === undefined || raw === null) return { port: DEFAULT_WORKLOAD_PORT, images: [] };
  const obj = record(raw, 'workload', bad);
  for (const key of Object.keys(obj)) {
    if (key !== 'port' && key !== 'images') throw bad(`workload.${key}`, 'is not a workload setting (use port, images)');
  }
  const port = integer(obj.port, DEFAULT_WORKLOAD_PORT, 1, 'workload.port', bad);
  if (port > 65535) throw bad('workload.port', `must be a port number from 1 to 65535 (got ${port})`);
  const list = obj.images ?? [];
  if (!Array.isArray(list)) throw bad('workload.images', 'must be a list of { id, name }');
  const seen = new Set<string>();
  const images = list.map((item, i) => {
    const field = `workload.images[${i}]`;
    const entry = record(item, field, bad);
    const { id, name } = entry;
    if (typeof id !== 'string' || !/^img-[a-z0-9][a-z0-9-]{0,62}$/.test(id)) {
      throw bad(`${field}.id`, 'must look like img-kv-app (img- and lower-case letters, digits or hyphens)');
    }
    if (RESERVED_IMAGE_IDS.has(id)) throw bad(`${field}.id`, `'${id}' is one of the sim's own seed images`);
    if (seen.has(id)) throw bad(`${field}.id`, `'${id}' is listed twice`);
    seen.add(id);
    if (typeof name !== 'string' || name.length === 0 || name.length > 255) {
      throw bad(`${field}.name`, 'must be a non-empty string of at most 255 characters');
    }
    return { id, name };
  });
  return { port, images };
}

function parseZones(raw: unknown, fallback: string[], bad: Bad): string[] {
  if (raw === undefined) return fallback;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((z) => typeof z === 'string' && z.length > 0)) {
    throw bad('zones', 'must be a non-empty list of zone names');
  }
  if (new Set(raw).size !== raw.length) throw bad('zones', 'must not repeat a zone');
  return raw as string[];
}

function parseQuotas(raw: unknown, bad: Bad): SimQuotas {
  if (raw === undefined) return { ...DEFAULT_QUOTAS };
  const obj = record(raw, 'quotas', bad);
  for (const key of Object.keys(obj)) {
    if (!(key in DEFAULT_QUOTAS)) throw bad(`quotas.${key}`, 'is not a quota (use instances, vcpus, volumes, volumeGiB)');
  }
  const q = (key: keyof SimQuotas) => integer(obj[key], DEFAULT_QUOTAS[key], 0, `quotas.${key}`, bad);
  return { instances: q('instances'), vcpus: q('vcpus'), volumes: q('volumes'), volumeGiB: q('volumeGiB') };
}

function parseRateLimit(raw: unknown, bad: Bad): SimSettings['rateLimit'] {
  if (raw === undefined || raw === null) return undefined;
  const obj = record(raw, 'rateLimit', bad);
  const rps = obj.requestsPerSecond;
  if (typeof rps !== 'number' || !Number.isFinite(rps) || rps <= 0) {
    throw bad('rateLimit.requestsPerSecond', 'must be a number above 0');
  }
  return { requestsPerSecond: rps, burst: integer(obj.burst, Math.max(1, Math.ceil(rps)), 1, 'rateLimit.burst', bad) };
}

function record(raw: unknown, field: string, bad: Bad): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(field, 'must be an object');
  return raw as Record<string, unknown>;
}

function nonNegative(raw: unknown, fallback: number, field: string, bad: Bad): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    throw bad(field, `must be a number >= 0 (got ${JSON.stringify(raw)})`);
  }
  return raw;
}

function integer(raw: unknown, fallback: number, min: number, field: string, bad: Bad): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min) {
    throw bad(field, `must be an integer >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return raw;
}
