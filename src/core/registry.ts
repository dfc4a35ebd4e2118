/** The configured providers and their adapters, loaded lazily by type name; the core never imports an adapter. */
import path from 'node:path';
import { withCallPolicy, type AdapterCallPolicy } from './adapter-middleware.js';
import { SkygateError, invalid, toSkygateError } from './errors.js';
import { PROVIDER_ID_PATTERN } from './ids.js';
import type { Provider, ProviderHealth } from './model.js';
import type { AdapterContext, AdapterModule, CloudAdapter, LoadBalancerAdapter } from './ports.js';

export interface ProviderConfig {
  id: string;
  type: string;
  displayName?: string;
  region?: string;
  settings?: Record<string, unknown>;
  /** The load balancer that fronts this provider's sites, if any (type defaults to the provider's). */
  loadBalancer?: { type?: string; settings?: Record<string, unknown> };
}

/** Finds an adapter module by type name (the server maps names to `adapters/<type>/index.ts`). */
export type AdapterLoader = (type: string) => Promise<AdapterModule>;

interface Entry {
  config: ProviderConfig;
  cloud: CloudAdapter;
  lb?: LoadBalancerAdapter;
  health: ProviderHealth;
}

export class ProviderRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly configs: ProviderConfig[],
    private readonly loader: AdapterLoader,
    private readonly dataDir: string,
    private readonly log: AdapterContext['log'],
    private readonly callPolicy?: AdapterCallPolicy,
  ) {
    const seen = new Set<string>();
    for (const [i, c] of configs.entries()) {
      if (!PROVIDER_ID_PATTERN.test(c.id)) throw invalid(`providers[${i}].id`, `'${c.id}' must match ${PROVIDER_ID_PATTERN}`);
      if (seen.has(c.id)) throw invalid(`providers[${i}].id`, `'${c.id}' is configured twice`);
      seen.add(c.id);
    }
  }

  /** Instantiates every adapter; a provider whose adapter fails to start is reported, not fatal. */
  async init(): Promise<void> {
    for (const config of this.configs) {
      const module = await this.loader(config.type);
      if (!module.createCloudAdapter) throw invalid('providers.type', `adapter type '${config.type}' has no cloud adapter`);
      const ctx: AdapterContext = {
        providerId: config.id,
        settings: config.settings ?? {},
        dataDir: path.join(this.dataDir, 'providers', config.id),
        log: this.log,
      };
      const cloud = withCallPolicy(await module.createCloudAdapter(ctx), this.callPolicy);
      let lb: LoadBalancerAdapter | undefined;
      if (config.loadBalancer) {
        const lbModule = config.loadBalancer.type ? await this.loader(config.loadBalancer.type) : module;
        const made = await lbModule.createLoadBalancerAdapter?.({ ...ctx, settings: config.loadBalancer.settings ?? {} });
        // Failover flips targets through this adapter: the same deadline, retries and metrics as cloud calls.
        lb = made && withCallPolicy(made, this.callPolicy);
      }
      this.entries.set(config.id, { config, cloud, lb, health: { status: 'unknown', checkedAt: new Date().toISOString() } });
    }
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The adapter of `id`; `field` names the input that carried the id, for the error. */
  cloud(id: string, field = 'body.provider'): CloudAdapter {
    return this.entry(id, field).cloud;
  }

  loadBalancer(id: string, field = 'path.providerId'): LoadBalancerAdapter {
    const lb = this.entry(id, field).lb;
    if (!lb) throw new SkygateError('unsupported', `provider '${id}' has no load balancer configured`, { field });
    return lb;
  }

  /** Probes the provider and remembers the answer; an unreachable provider is `down`, never an exception. */
  async checkHealth(id: string): Promise<ProviderHealth> {
    const entry = this.entry(id, 'path.providerId');
    try {
      entry.health = await entry.cloud.health();
    } catch (e) {
      const err = toSkygateError(e, id);
      entry.health = { status: 'down', checkedAt: new Date().toISOString(), message: err.message };
    }
    return entry.health;
  }

  async describe(id: string, field = 'path.providerId'): Promise<Provider> {
    const { config, cloud } = this.entry(id, field);
    const health = await this.checkHealth(id);
    let zones: string[] = [];
    try {
      zones = await cloud.zones();
    } catch {
      // zones are informative; an unreachable provider still describes itself
    }
    return {
      id,
      type: config.type,
      displayName: config.displayName ?? id,
      ...(config.region !== undefined && { region: config.region }),
      zones,
      health,
      capabilities: cloud.capabilities(),
    };
  }

  async close(): Promise<void> {
    for (const { cloud, lb } of this.entries.values()) {
      await cloud.close?.();
      await lb?.close?.();
    }
  }

  private entry(id: string, field: string): Entry {
    const entry = this.entries.get(id);
    // An unknown provider in a path is a missing resource; in a body or query it is bad input.
    if (!entry) {
      const code = field.startsWith('path.') ? 'not_found' : 'invalid_input';
      throw new SkygateError(code, `${field}: provider '${id}' is not configured`, { field });
    }
    return entry;
  }
}
