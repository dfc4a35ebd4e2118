/** The aws adapters' settings: defaults, and validation that names the offending setting. */
import { SkygateError } from '../../src/core/index.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What every AWS SDK client of skygate needs: where to go, as whom, and how the SDK retries. */
export interface AwsClientSettings {
  region: string;
  /** An EC2-compatible endpoint (another skygate, a private cloud); absent means AWS itself. */
  endpoint?: string;
  /** Absent means the SDK's default chain: environment, shared config/SSO, web identity, ECS/EC2 roles. */
  credentials?: AwsCredentials;
  /** Attempts per request made by the SDK's own retry strategy; see the README on how it relates to adapterCalls. */
  maxAttempts: number;
  /** `adaptive` adds the SDK's client-side rate limiter, which slows down after throttling responses. */
  retryMode: 'standard' | 'adaptive';
}

export interface AwsSettings extends AwsClientSettings {
  /** DescribeImages `Owners` for listings: `self`, `amazon`, account ids. */
  imageOwners: string[];
  /** DescribeInstanceTypes `instance-type` filter values (wildcards allowed); absent lists every type. */
  instanceTypes?: string[];
  /** How long instance types and zone names are kept before they are asked again. */
  catalogCacheMs: number;
  /** CreateImage NoReboot: capture without rebooting (crash-consistent), as replication wants. */
  imageNoReboot: boolean;
  /** How long after a create a not-found read is treated as EC2's eventual consistency. */
  consistencyWindowMs: number;
  /**
   * The account these credentials act for. Only compared, between providers, to decide whether CopyImage can
   * replicate between them (same account); without it, the same credentials are taken as the same account.
   */
  accountId?: string;
}

/** One SDK attempt per call by default: skygate's adapter middleware owns the retry loop (README, "Retries"). */
export const DEFAULT_MAX_ATTEMPTS = 1;
export const DEFAULT_CATALOG_CACHE_MS = 3_600_000;
export const DEFAULT_CONSISTENCY_WINDOW_MS = 60_000;

const CLIENT_KEYS = ['region', 'endpoint', 'credentials', 'maxAttempts', 'retryMode'];
const EC2_KEYS = ['imageOwners', 'instanceTypes', 'catalogCacheMs', 'imageNoReboot', 'consistencyWindowMs', 'accountId'];

type Warn = (obj: object, msg?: string) => void;
export type Bad = (field: string, reason: string) => SkygateError;

/** Builds the error for a bad setting of `adapter` at provider `providerId`. */
export function settingError(adapter: string, providerId: string): Bad {
  return (field, reason) =>
    new SkygateError('invalid_input', `${adapter} provider '${providerId}': setting ${field} ${reason}`, {
      field,
      provider: providerId,
      errors: [{ field, reason }],
    });
}

/** Warns about keys no parser knows: a typo should not pass silently, nor stop a gateway. */
export function warnUnknown(raw: Record<string, unknown>, known: string[], providerId: string, warn: Warn, adapter: string) {
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) warn({ provider: providerId, settings: unknown }, `${adapter}: ignoring unknown settings`);
}

export function parseAwsClientSettings(raw: Record<string, unknown>, bad: Bad): AwsClientSettings {
  const region = raw.region;
  if (typeof region !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
    throw bad('region', 'is required: an AWS region such as eu-west-1 (or, with endpoint, the region that endpoint signs for)');
  }
  const retryMode = raw.retryMode ?? 'standard';
  if (retryMode !== 'standard' && retryMode !== 'adaptive') throw bad('retryMode', "must be 'standard' or 'adaptive'");
  return {
    region,
    ...(raw.endpoint !== undefined && { endpoint: parseEndpoint(raw.endpoint, bad) }),
    ...(raw.credentials !== undefined && { credentials: parseCredentials(raw.credentials, bad) }),
    maxAttempts: integer(raw.maxAttempts, DEFAULT_MAX_ATTEMPTS, 1, 10, 'maxAttempts', bad),
    retryMode,
  };
}

export function parseAwsSettings(providerId: string, raw: Record<string, unknown>, warn: Warn): AwsSettings {
  warnUnknown(raw, [...CLIENT_KEYS, ...EC2_KEYS], providerId, warn, 'aws');
  const bad = settingError('aws', providerId);
  const instanceTypes = raw.instanceTypes === undefined ? undefined : stringList(raw.instanceTypes, 'instanceTypes', bad);
  if (raw.imageNoReboot !== undefined && typeof raw.imageNoReboot !== 'boolean')
    throw bad('imageNoReboot', 'must be true or false');
  const accountId = raw.accountId;
  // EC2's accounts are 12 digits; an EC2-compatible endpoint names its own.
  const accountPattern = raw.endpoint === undefined ? /^\d{12}$/ : /^[\w.@-]{1,64}$/;
  if (accountId !== undefined && (typeof accountId !== 'string' || !accountPattern.test(accountId))) {
    throw bad('accountId', raw.endpoint === undefined ? 'must be a 12-digit AWS account id' : 'must be an account name');
  }
  return {
    ...parseAwsClientSettings(raw, bad),
    imageOwners: raw.imageOwners === undefined ? ['self'] : stringList(raw.imageOwners, 'imageOwners', bad),
    ...(instanceTypes !== undefined && { instanceTypes }),
    catalogCacheMs: integer(raw.catalogCacheMs, DEFAULT_CATALOG_CACHE_MS, 0, 86_400_000, 'catalogCacheMs', bad),
    imageNoReboot: raw.imageNoReboot ?? true,
    consistencyWindowMs: integer(
      raw.consistencyWindowMs,
      DEFAULT_CONSISTENCY_WINDOW_MS,
      0,
      3_600_000,
      'consistencyWindowMs',
      bad,
    ),
    ...(accountId !== undefined && { accountId }),
  };
}

function parseEndpoint(raw: unknown, bad: Bad): string {
  if (typeof raw !== 'string') throw bad('endpoint', 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('endpoint', `'${raw}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('endpoint', 'must be an http(s) URL');
  if (url.search !== '' || url.hash !== '') throw bad('endpoint', 'must not carry a query or a fragment');
  return raw;
}

function parseCredentials(raw: unknown, bad: Bad): AwsCredentials {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('credentials', 'must be an object');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!['accessKeyId', 'secretAccessKey', 'sessionToken'].includes(key)) {
      throw bad(`credentials.${key}`, 'is not a credential (use accessKeyId, secretAccessKey, sessionToken)');
    }
  }
  const text = (key: string) => {
    const v = obj[key];
    if (typeof v !== 'string' || v.length === 0) throw bad(`credentials.${key}`, 'must be a non-empty string');
    return v;
  };
  return {
    accessKeyId: text('accessKeyId'),
    secretAccessKey: text('secretAccessKey'),
    ...(obj.sessionToken !== undefined && { sessionToken: text('sessionToken') }),
  };
}

function stringList(raw: unknown, field: string, bad: Bad): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((v) => typeof v === 'string' && v.length > 0)) {
    throw bad(field, 'must be a non-empty list of strings');
  }
  return raw as string[];
}

function integer(raw: unknown, fallback: number, min: number, max: number, field: string, bad: Bad): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw bad(field, `must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return raw;
}
