/** Read side of the single pane of glass: list and get every resource kind across providers. */
import type { Router } from 'express';
import type { ResourceKind } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { parseTags, route, splitList, validated } from '../http.js';
import { reply, type Schema, type Schemas } from '../schemas.js';

const COLLECTIONS = [
  ['instances', 'instance', 'Instance'],
  ['images', 'image', 'Image'],
  ['snapshots', 'snapshot', 'Snapshot'],
  ['volumes', 'volume', 'Volume'],
  ['flavors', 'flavor', 'Flavor'],
] as const satisfies ReadonlyArray<readonly [string, ResourceKind, keyof Schemas]>;

export function inventoryRoutes(router: Router, core: CoreServices): void {
  for (const [collection, kind, itemSchema] of COLLECTIONS) {
    router.get(
      `/${collection}`,
      route(async (_req, res) => {
        const q = validated(res).query;
        // The hot path of the pane of glass: the core hands the page already serialised (same shape as
        // `list`, which the spec's page schemas describe; the tests validate every page against them).
        const json = await core.inventory.listJson(kind, {
          providers: splitList(q.provider),
          state: q.state as string | undefined,
          name: q.name as string | undefined,
          tags: parseTags(q.tag),
          limit: (q.limit as number | undefined) ?? 100,
          cursor: q.cursor as string | undefined,
          fresh: q.fresh === true,
        });
        res.type('application/json').send(json);
      }),
    );
    router.get(
      `/${collection}/:id`,
      route(async (req, res) => {
        reply(res, 200, itemSchema, (await core.inventory.get(kind, String(req.params.id))) as Schema<typeof itemSchema>);
      }),
    );
  }
}
