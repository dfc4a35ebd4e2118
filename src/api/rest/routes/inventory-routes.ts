/** Read side of the single pane of glass: list and get every resource kind across providers. */
import type { Router } from 'express';
import type { ResourceKind } from '../../../core/model.js';
import type { CoreServices } from '../../../core/services/index.js';
import { parseTags, route, splitList, validated } from '../http.js';

const COLLECTIONS: Array<[string, ResourceKind]> = [
  ['instances', 'instance'],
  ['images', 'image'],
  ['snapshots', 'snapshot'],
  ['volumes', 'volume'],
  ['flavors', 'flavor'],
];

export function inventoryRoutes(router: Router, core: CoreServices): void {
  for (const [collection, kind] of COLLECTIONS) {
    router.get(
      `/${collection}`,
      route(async (_req, res) => {
        const q = validated(res).query;
        const listing = await core.inventory.list(kind, {
          providers: splitList(q.provider),
          state: q.state as string | undefined,
          name: q.name as string | undefined,
          tags: parseTags(q.tag),
          limit: (q.limit as number | undefined) ?? 100,
          cursor: q.cursor as string | undefined,
          fresh: q.fresh === true,
        });
        res.json(listing);
      }),
    );
    router.get(
      `/${collection}/:id`,
      route(async (req, res) => {
        res.json(await core.inventory.get(kind, String(req.params.id)));
      }),
    );
  }
}
