/** Gateway configuration: environment variables plus an optional YAML/JSON file of providers. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CALL_POLICY, type AdapterCallPolicy } from '../core/adapter-middleware.js';
import { invalid } from '../core/errors.js';
import type { ProviderConfig } from '../core/registry.js';
import { type AuthThrottleOptions, DEFAULT_AUTH_THROTTLE } from '../core/services/auth-throttle.js';
import { DEFAULT_INVENTORY_OPTIONS, type InventoryOptions } from '../core/services/inventory.js';
import { loadPortabilityConfig, type PortabilityConfig } from '../portability/portability-config.js';
import { type HaConfig, loadHaConfig } from '../ha/ha-config.js';
import { type BodyTimeouts, DEFAULT_BODY_TIMEOUTS } from './body-timeouts.js';

export interface GatewayConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  /** Key that encrypts stored secrets (access keys); generated into the data dir when not given. */
  secretKey?: string;
  logLevel: string;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Request-body deadlines: an idle timeout for every body, a total one for bodies that are buffered. */
  bodyTimeouts: BodyTimeouts;
  /** Throttling of repeated failed authentication from one address. */
  authThrottle: AuthThrottleOptions;
  providers: ProviderConfig[];
  inventory: InventoryOptions;
  operations: { concurrencyPerProvider: number };
  adapterCalls: AdapterCallPolicy;
  portability: PortabilityConfig;
  /** HA timing and the controller's identity (see src/ha/ha-config.ts); defaults when absent. */
  ha?: HaConfig;
}

/**
 * Without a config file: two simulated clouds, so the quick start needs no credentials. Each has an address block of
 * its own on the loopback and a workload image, `img-kv-app`: its instances serve HTTP on <privateIp>:8000 (health,
 * whoami, a key-value store on the instance's disk), something real to send traffic to and fail over.
 */
export const DEFAULT_PROVIDERS: ProviderConfig[] = [
  {
    id: 'sim-east',
    type: 'sim',
    displayName: 'Simulated cloud (east)',
    region: 'east',
    settings: { addressBlock: '127.10.0.0/16', workload: { images: [{ id: 'img-kv-app', name: 'kv-app' }] } },
    loadBalancer: {},
  },
  {
    id: 'sim-west',
    type: 'sim',
    displayName: 'Simulated cloud (west)',
    region: 'west',
    settings: { addressBlock: '127.20.0.0/16', workload: { images: [{ id: 'img-kv-app', name: 'kv-app' }] } },
    loadBalancer: {},
  },
];

interface FileConfig {
  providers?: ProviderConfig[];
  inventory?: Partial<InventoryOptions>;
  operations?: { concurrencyPerProvider?: number };
  adapterCalls?: Partial<AdapterCallPolicy>;
  portability?: Partial<PortabilityConfig>;
  authThrottle?: Partial<AuthThrottleOptions>;
  ha?: Partial<HaConfig>;
}

function positiveInt(value: unknown, field: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
    throw invalid(field, `must be a positive integer, got '${String(value)}'`);
  return n;
}

function readConfigFile(file: string): FileConfig {
  const text = readFileSync(file, 'utf8');
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid('SKYGATE_CONFIG', `${file} must hold a mapping`);
  const cfg = parsed as FileConfig;
  if (cfg.providers !== undefined) {
    if (!Array.isArray(cfg.providers) || cfg.providers.length === 0) throw invalid('providers', 'must be a non-empty list');
    cfg.providers.forEach((p, i) => {
      if (typeof p?.id !== 'string') throw invalid(`providers[${i}].id`, 'is required');
      if (typeof p.type !== 'string' || !/^[a-z][a-z0-9-]*$/.test(p.type))
        throw invalid(`providers[${i}].type`, 'must be an adapter type name');
    });
  }
  return cfg;
}

/** Builds the configuration from `env` (process.env by default); throws invalid_input naming the bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const file = env.SKYGATE_CONFIG ? readConfigFile(env.SKYGATE_CONFIG) : {};
  const inventory = { ...DEFAULT_INVENTORY_OPTIONS, ...file.inventory };
  const adapterCalls = { ...DEFAULT_CALL_POLICY, ...file.adapterCalls };
  return {
    host: env.SKYGATE_HOST ?? '127.0.0.1',
    port: env.SKYGATE_PORT === undefined ? 8080 : positiveInt(env.SKYGATE_PORT, 'SKYGATE_PORT'),
    dataDir: path.resolve(env.SKYGATE_DATA_DIR ?? './data'),
    databaseUrl: env.SKYGATE_DATABASE_URL || undefined,
    adminToken: env.SKYGATE_ADMIN_TOKEN || undefined,
    secretKey: env.SKYGATE_SECRET_KEY || undefined,
    logLevel: env.SKYGATE_LOG_LEVEL ?? 'info',
    bodyLimitBytes:
      env.SKYGATE_BODY_LIMIT === undefined ? 1024 * 1024 : positiveInt(env.SKYGATE_BODY_LIMIT, 'SKYGATE_BODY_LIMIT'),
    bodyTimeouts: {
      idleMs:
        env.SKYGATE_BODY_IDLE_TIMEOUT_MS === undefined
          ? DEFAULT_BODY_TIMEOUTS.idleMs
          : positiveInt(env.SKYGATE_BODY_IDLE_TIMEOUT_MS, 'SKYGATE_BODY_IDLE_TIMEOUT_MS'),
      totalMs:
        env.SKYGATE_BODY_TIMEOUT_MS === undefined
          ? DEFAULT_BODY_TIMEOUTS.totalMs
          : positiveInt(env.SKYGATE_BODY_TIMEOUT_MS, 'SKYGATE_BODY_TIMEOUT_MS'),
    },
    authThrottle: {
      maxFailures: positiveInt(
        env.SKYGATE_AUTH_MAX_FAILURES ?? file.authThrottle?.maxFailures ?? DEFAULT_AUTH_THROTTLE.maxFailures,
        'authThrottle.maxFailures',
      ),
      windowMs: positiveInt(
        env.SKYGATE_AUTH_FAILURE_WINDOW_MS ?? file.authThrottle?.windowMs ?? DEFAULT_AUTH_THROTTLE.windowMs,
        'authThrottle.windowMs',
      ),
      maxAddresses: positiveInt(
        file.authThrottle?.maxAddresses ?? DEFAULT_AUTH_THROTTLE.maxAddresses,
        'authThrottle.maxAddresses',
      ),
    },
    providers: file.providers ?? DEFAULT_PROVIDERS,
    inventory: {
      maxAgeMs: positiveInt(inventory.maxAgeMs, 'inventory.maxAgeMs'),
      providerTimeoutMs: positiveInt(inventory.providerTimeoutMs, 'inventory.providerTimeoutMs'),
    },
    operations: {
      concurrencyPerProvider: positiveInt(file.operations?.concurrencyPerProvider ?? 32, 'operations.concurrencyPerProvider'),
    },
    adapterCalls: {
      timeoutMs: positiveInt(adapterCalls.timeoutMs, 'adapterCalls.timeoutMs'),
      maxAttempts: positiveInt(adapterCalls.maxAttempts, 'adapterCalls.maxAttempts'),
      baseDelayMs: positiveInt(adapterCalls.baseDelayMs, 'adapterCalls.baseDelayMs'),
    },
    portability: loadPortabilityConfig(env, file.portability),
    ha: loadHaConfig(env, file.ha, path.resolve(env.SKYGATE_DATA_DIR ?? './data')),
  };
}
