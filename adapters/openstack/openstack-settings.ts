/** The OpenStack adapters' settings: defaults, and validation that names the offending setting. */
import { SkygateError } from '../../src/core/index.js';

export type Interface = 'public' | 'internal' | 'admin';
/** The catalog services the adapters use, by the name their endpoint overrides go by. */
export type ServiceKey = 'compute' | 'image' | 'block-storage' | 'network' | 'load-balancer';
export const SERVICE_KEYS: ServiceKey[] = ['compute', 'image', 'block-storage', 'network', 'load-balancer'];

export type Credentials =
  | {
      kind: 'password';
      username: string;
      password: string;
      userDomain: { id: string } | { name: string };
      project: { id: string } | { name: string; domain: { id: string } | { name: string } };
    }
  | { kind: 'application_credential'; id: string; secret: string };

export interface OpenStackSettings {
  authUrl: string;
  region?: string;
  interface: Interface;
  credentials: Credentials;
  /** `OpenStack-API-Version` values sent to nova and cinder. */
  microversions: { compute: string; volume: string };
  /** Network name or id servers are attached to; `none` boots them without a port (nova 2.37+). */
  network: string;
  /** Replaces a catalog URL (a proxy in front of a service, a cloud whose catalog is wrong). */
  endpointOverrides: Partial<Record<ServiceKey, string>>;
  requestTimeoutMs: number;
  /** A token is renewed this long before it expires (at most half its lifetime). */
  tokenRenewBeforeMs: number;
  /**
   * How long a deleted server still reads as a `terminated` instance (nova answers 404 at once; EC2 keeps
   * terminated instances visible for about an hour, and EC2 tools wait for that state). 0: not at all.
   */
  terminatedRetentionMs: number;
  /** Load balancer only: the Octavia load balancer whose pools it manages (name or id); all pools otherwise. */
  loadBalancer?: string;
  /** Load balancer only: the subnet new pool members are placed on. */
  memberSubnetId?: string;
  /** Load balancer only: how long to wait for Octavia to apply a change (PENDING_* -> ACTIVE). */
  lbWaitTimeoutMs: number;
}

export const DEFAULT_MICROVERSIONS = { compute: '2.45', volume: '3.60' };
/** nova 2.37 (networks "none") and 2.45 (createImage answers the image id) are relied upon; cinder 3.27 (attachments). */
const MIN_MICROVERSIONS = { compute: [2, 45], volume: [3, 27] } as const;

const KNOWN = new Set([
  'authUrl',
  'region',
  'interface',
  'username',
  'password',
  'userDomainName',
  'userDomainId',
  'projectName',
  'projectId',
  'projectDomainName',
  'projectDomainId',
  'applicationCredentialId',
  'applicationCredentialSecret',
  'microversions',
  'network',
  'endpointOverrides',
  'requestTimeoutMs',
  'tokenRenewBeforeSeconds',
  'terminatedRetentionMs',
  'loadBalancer',
  'memberSubnetId',
  'lbWaitTimeoutMs',
]);

type Bad = (field: string, reason: string) => SkygateError;
type Warn = (obj: object, msg?: string) => void;

export function parseOpenStackSettings(providerId: string, raw: Record<string, unknown>, warn: Warn): OpenStackSettings {
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) warn({ provider: providerId, settings: unknown }, 'openstack: ignoring unknown settings');
  const bad: Bad = (field, reason) =>
    new SkygateError('invalid_input', `openstack provider '${providerId}': setting ${field} ${reason}`, {
      field: `settings.${field}`,
      provider: providerId,
      errors: [{ field: `settings.${field}`, reason }],
    });
  const itf = optionalString(raw.interface, 'interface', bad) ?? 'public';
  if (!['public', 'internal', 'admin'].includes(itf)) throw bad('interface', `must be public, internal or admin (got '${itf}')`);
  return {
    authUrl: url(raw.authUrl, 'authUrl', bad, true) as string,
    region: optionalString(raw.region, 'region', bad),
    interface: itf as Interface,
    credentials: parseCredentials(raw, bad),
    microversions: parseMicroversions(raw.microversions, bad),
    network: optionalString(raw.network, 'network', bad) ?? 'none',
    endpointOverrides: parseOverrides(raw.endpointOverrides, bad),
    requestTimeoutMs: positive(raw.requestTimeoutMs, 60_000, 'requestTimeoutMs', bad),
    tokenRenewBeforeMs: positive(raw.tokenRenewBeforeSeconds, 300, 'tokenRenewBeforeSeconds', bad) * 1000,
    terminatedRetentionMs: positive(raw.terminatedRetentionMs, 3_600_000, 'terminatedRetentionMs', bad, true),
    loadBalancer: optionalString(raw.loadBalancer, 'loadBalancer', bad),
    memberSubnetId: optionalString(raw.memberSubnetId, 'memberSubnetId', bad),
    lbWaitTimeoutMs: positive(raw.lbWaitTimeoutMs, 120_000, 'lbWaitTimeoutMs', bad),
  };
}

function parseCredentials(raw: Record<string, unknown>, bad: Bad): Credentials {
  const s = (key: string) => optionalString(raw[key], key, bad);
  const appId = s('applicationCredentialId');
  if (appId !== undefined) {
    const secret = s('applicationCredentialSecret');
    if (secret === undefined) throw bad('applicationCredentialSecret', 'is required with applicationCredentialId');
    for (const key of ['username', 'password', 'projectName', 'projectId']) {
      if (raw[key] !== undefined)
        throw bad(key, 'must not be set with applicationCredentialId (the credential fixes user and project)');
    }
    return { kind: 'application_credential', id: appId, secret };
  }
  const username = s('username');
  const password = s('password');
  if (username === undefined) throw bad('username', 'is required (or applicationCredentialId and applicationCredentialSecret)');
  if (password === undefined) throw bad('password', 'is required with username');
  const userDomainId = s('userDomainId');
  const projectId = s('projectId');
  const projectName = s('projectName');
  if (projectId === undefined && projectName === undefined) throw bad('projectName', 'is required (or projectId)');
  const projectDomainId = s('projectDomainId');
  return {
    kind: 'password',
    username,
    password,
    userDomain: userDomainId !== undefined ? { id: userDomainId } : { name: s('userDomainName') ?? 'Default' },
    project:
      projectId !== undefined
        ? { id: projectId }
        : {
            name: projectName as string,
            domain: projectDomainId !== undefined ? { id: projectDomainId } : { name: s('projectDomainName') ?? 'Default' },
          },
  };
}

function parseMicroversions(raw: unknown, bad: Bad): OpenStackSettings['microversions'] {
  if (raw === undefined) return { ...DEFAULT_MICROVERSIONS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('microversions', 'must be an object');
  const out = { ...DEFAULT_MICROVERSIONS };
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'compute' && key !== 'volume') throw bad(`microversions.${key}`, 'is not a service (use compute, volume)');
    const m = typeof value === 'string' ? /^(\d+)\.(\d+)$/.exec(value) : null;
    if (!m) throw bad(`microversions.${key}`, `must be a version like '2.45' (got ${JSON.stringify(value)})`);
    const [major, minor] = MIN_MICROVERSIONS[key];
    if (Number(m[1]) !== major || Number(m[2]) < minor) {
      throw bad(`microversions.${key}`, `must be ${major}.${minor} or later (got ${value})`);
    }
    out[key] = value as string;
  }
  return out;
}

function parseOverrides(raw: unknown, bad: Bad): OpenStackSettings['endpointOverrides'] {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('endpointOverrides', 'must be an object');
  const out: OpenStackSettings['endpointOverrides'] = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!SERVICE_KEYS.includes(key as ServiceKey)) {
      throw bad(`endpointOverrides.${key}`, `is not a service (use ${SERVICE_KEYS.join(', ')})`);
    }
    out[key as ServiceKey] = url(value, `endpointOverrides.${key}`, bad, true);
  }
  return out;
}

function url(raw: unknown, field: string, bad: Bad, required: boolean): string | undefined {
  if (raw === undefined && !required) return undefined;
  if (typeof raw !== 'string' || raw === '') throw bad(field, 'is required: the URL of the service');
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw bad(field, `is not a URL ('${raw}')`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad(field, `must be an http(s) URL ('${raw}')`);
  return raw.replace(/\/+$/, '');
}

function optionalString(raw: unknown, field: string, bad: Bad): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw === '') throw bad(field, 'must be a non-empty string');
  return raw;
}

/** A number above 0 (or, with `zeroAllowed`, 0 or more); `fallback` when unset. */
function positive(raw: unknown, fallback: number, field: string, bad: Bad, zeroAllowed = false): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || (raw === 0 && !zeroAllowed)) {
    throw bad(field, `must be a number ${zeroAllowed ? '0 or more' : 'above 0'} (got ${JSON.stringify(raw)})`);
  }
  return raw;
}
