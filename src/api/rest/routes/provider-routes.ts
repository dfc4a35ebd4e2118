/** Providers (the configured clouds) and the sim's fault-injection switch for drills and tests. */
import type { Router } from 'express';
import type { CoreServices } from '../../../core/services/index.js';
import { principal, route } from '../http.js';
import { reply, type Schema } from '../schemas.js';

export function providerRoutes(router: Router, core: CoreServices): void {
  const { providers } = core;
  const pid = (req: { params: Record<string, unknown> }) => String(req.params.providerId);

  router.get(
    '/providers',
    route(async (_req, res) => {
      reply(res, 200, 'ProviderList', { items: await providers.describeAll() });
    }),
  );
  router.get(
    '/providers/:providerId',
    route(async (req, res) => reply(res, 200, 'Provider', await providers.describe(pid(req)))),
  );
  router.get(
    '/providers/:providerId/health',
    route(async (req, res) => reply(res, 200, 'ProviderHealth', await providers.health(pid(req)))),
  );
  router.get(
    '/providers/:providerId/capabilities',
    route(async (req, res) => reply(res, 200, 'Capabilities', providers.capabilities(pid(req)))),
  );

  router.get(
    '/admin/providers/:providerId/faults',
    route(async (req, res) => reply(res, 200, 'ProviderFaults', (await providers.faults(pid(req))) as Schema<'ProviderFaults'>)),
  );
  router.put(
    '/admin/providers/:providerId/faults',
    route(async (req, res) => {
      const result = await providers.setFaults(pid(req), req.body, principal(res).tokenId);
      reply(res, 200, 'ProviderFaults', result as Schema<'ProviderFaults'>);
    }),
  );
}
