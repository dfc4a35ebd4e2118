/** Providers (the configured clouds) and the sim's fault-injection switch for drills and tests. */
import type { Router } from 'express';
import { SkygateError } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { route } from '../http.js';
import { reply, type Schema } from '../schemas.js';

export function providerRoutes(router: Router, core: CoreServices): void {
  const { registry } = core;
  const pid = (req: { params: Record<string, unknown> }) => String(req.params.providerId);

  router.get(
    '/providers',
    route(async (_req, res) => {
      reply(res, 200, 'ProviderList', { items: await Promise.all(registry.ids().map((id) => registry.describe(id))) });
    }),
  );
  router.get(
    '/providers/:providerId',
    route(async (req, res) => reply(res, 200, 'Provider', await registry.describe(pid(req)))),
  );
  router.get(
    '/providers/:providerId/health',
    route(async (req, res) => reply(res, 200, 'ProviderHealth', await registry.checkHealth(pid(req)))),
  );
  router.get(
    '/providers/:providerId/capabilities',
    route(async (req, res) => reply(res, 200, 'Capabilities', registry.cloud(pid(req), 'path.providerId').capabilities())),
  );

  // Fault injection is an adapter extension: only adapters that simulate faults offer it.
  const faults = (req: { params: Record<string, unknown> }, name: 'getFaults' | 'setFaults') => {
    const fn = registry.cloud(pid(req), 'path.providerId').extensions?.[name];
    if (!fn) throw new SkygateError('unsupported', `provider '${pid(req)}' has no fault injection`, { field: 'path.providerId' });
    return fn;
  };
  router.get(
    '/admin/providers/:providerId/faults',
    route(async (req, res) => reply(res, 200, 'ProviderFaults', (await faults(req, 'getFaults')()) as Schema<'ProviderFaults'>)),
  );
  router.put(
    '/admin/providers/:providerId/faults',
    route(async (req, res) => {
      const result = await faults(req, 'setFaults')(req.body);
      await core.events.emit('provider.faults-changed', pid(req), { faults: result as Record<string, unknown> });
      reply(res, 200, 'ProviderFaults', result as Schema<'ProviderFaults'>);
    }),
  );
}
