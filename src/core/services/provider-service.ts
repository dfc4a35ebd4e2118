/** The configured providers as fronts see them: describe, probe, and (for simulators) inject faults, audited. */
import { SkygateError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Capabilities, Provider, ProviderHealth } from '../model.js';
import type { ProviderRegistry } from '../registry.js';

export class ProviderService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly events: EventBus,
  ) {}

  ids(): string[] {
    return this.registry.ids();
  }

  has(id: string): boolean {
    return this.registry.has(id);
  }

  describe(id: string): Promise<Provider> {
    return this.registry.describe(id);
  }

  describeAll(): Promise<Provider[]> {
    return Promise.all(this.registry.ids().map((id) => this.registry.describe(id)));
  }

  health(id: string): Promise<ProviderHealth> {
    return this.registry.checkHealth(id);
  }

  capabilities(id: string, field = 'path.providerId'): Capabilities {
    return this.registry.cloud(id, field).capabilities();
  }

  /** The faults a simulating adapter injects now. */
  async faults(id: string): Promise<Record<string, unknown>> {
    return (await this.faultSwitch(id, 'getFaults')()) as Record<string, unknown>;
  }

  /** Changes the injected faults; every change is an audited event, whichever front asked. */
  async setFaults(id: string, faults: unknown, principal: string): Promise<Record<string, unknown>> {
    const result = (await this.faultSwitch(id, 'setFaults')(faults)) as Record<string, unknown>;
    await this.events.emit('provider.faults-changed', id, { faults: result, by: principal });
    return result;
  }

  /** Fault injection is an adapter extension: only adapters that simulate faults offer it. */
  private faultSwitch(id: string, name: 'getFaults' | 'setFaults') {
    const fn = this.registry.cloud(id, 'path.providerId').extensions?.[name];
    if (!fn) throw new SkygateError('unsupported', `provider '${id}' has no fault injection`, { field: 'path.providerId' });
    return fn;
  }
}
