/** Networks: each provider's default network, and the networks created beside it (list, create, get, change, delete). */
import type { Router } from 'express';
import type { CoreServices } from '../../../core/services/index.js';
import { caller, route, splitList, validated } from '../http.js';
import { reply, type Schema } from '../schemas.js';
import { inBodyTerms, inRestTerms, providerInPath } from './rest-terms.js';

const BASE = '/networks';

export function networkRoutes(router: Router, core: CoreServices): void {
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);

  router.get(
    '/providers/:providerId/network',
    route(async (req, res) => reply(res, 200, 'DefaultNetwork', await core.network.defaults(providerInPath(core, req)))),
  );

  router.get(
    BASE,
    route(async (_req, res) => {
      const q = validated(res).query;
      const page = await core.network.page(
        {
          providers: splitList(q.provider),
          limit: (q.limit as number | undefined) ?? 100,
          cursor: q.cursor as string | undefined,
        },
        'query.provider',
      );
      reply(res, 200, 'NetworkPage', page);
    }),
  );
  router.post(
    BASE,
    route(async (req, res) => {
      const body = req.body as Schema<'CreateNetworkRequest'>;
      const network = await inBodyTerms(() => core.network.create(body, caller(req, res)));
      res.location(`/v1${BASE}/${encodeURIComponent(network.id)}`);
      reply(res, 201, 'Network', network);
    }),
  );
  router.get(
    `${BASE}/:id`,
    route(async (req, res) => reply(res, 200, 'Network', await core.network.get(id(req), 'path.id'))),
  );
  router.patch(
    `${BASE}/:id`,
    route(async (req, res) => {
      const change = req.body as Schema<'UpdateNetworkRequest'>;
      reply(res, 200, 'Network', await inBodyTerms(() => core.network.update(id(req), change, caller(req, res), 'path.id')));
    }),
  );
  router.delete(
    `${BASE}/:id`,
    route(async (req, res) => {
      // An adapter names its own argument `id`; in the request that is the path's.
      await inRestTerms({ id: 'path.id' }, () => core.network.delete(id(req), caller(req, res), 'path.id'));
      res.status(204).end();
    }),
  );
}
