/** Answers what a protection group spec refers to (providers, pools, instances, flavors) from the registry and the inventory. */
import { SkygateError } from '../core/errors.js';
import type { Flavor, Instance } from '../core/model.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { InventoryService } from '../core/services/inventory.js';
import type { GroupLookups } from './protection-group-spec.js';

export interface MemberLookups extends GroupLookups {
  /** A flavor by skygate id, for the hardware a member needs. */
  flavor(id: string): Promise<Flavor>;
}

const isNotFound = (e: unknown) => e instanceof SkygateError && e.code === 'not_found';

export function registryLookups(registry: ProviderRegistry, inventory: InventoryService): MemberLookups {
  return {
    providers: () => registry.ids(),
    async lbPools(lbProvider) {
      let lb: ReturnType<ProviderRegistry['loadBalancer']>;
      try {
        lb = registry.loadBalancer(lbProvider, 'traffic.lbProvider');
      } catch (e) {
        if (e instanceof SkygateError && e.code === 'unsupported') return undefined;
        throw e;
      }
      return lb.listPools();
    },
    async instance(id) {
      // Read live, so a group is never made of an instance that is already gone.
      return inventory.get('instance', id, 'instances.ids').catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
    },
    async instancesBySelector(provider, selector) {
      const tags = Object.entries(selector).map(([key, value]) => ({ key, value }));
      const found: Instance[] = [];
      let cursor: string | undefined;
      do {
        const page = await inventory.list('instance', { providers: [provider], tags, limit: 1000, cursor, fresh: true });
        // A selection from a cached listing could protect instances that are gone, or miss new ones.
        const listing = page.providers.find((p) => p.id === provider);
        if (listing?.status !== 'fresh') {
          throw new SkygateError(
            'provider_unavailable',
            `instances.selector: cannot list the instances at '${provider}' now (${listing?.error ?? listing?.status ?? 'no answer'})`,
            { provider, field: 'instances.selector' },
          );
        }
        found.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return found;
    },
    flavor: (id) => inventory.get('flavor', id, 'flavorId'),
  };
}
