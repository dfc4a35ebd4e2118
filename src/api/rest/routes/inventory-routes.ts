/** Read side of the single pane of glass: list and get every resource kind across providers. */
import type { Router } from 'express';
import type { ResourceKind } from '../../../core/model.js';
import type { CoreServices } from '../../../core/services/index.js';
import { parseTags, route, splitList, validated } from '../http.js';
import { reply, type Schema, type Schemas } from '../schemas.js';

const COLLECTIONS = [
  ['instances', 'instance', 'InstancePage', 'Instance'],
  ['images', 'image', 'ImagePage', 'Image'],
  ['snapshots', 'snapshot', 'SnapshotPage', 'Snapshot'],
  ['volumes', 'volume', 'VolumePage', 'Volume'],
  ['flavors', 'flavor', 'FlavorPage', 'Flavor'],
] as const satisfies ReadonlyArray<readonly [string, ResourceKind, keyof Schemas, keyof Schemas]>;

export function inventoryRoutes(router: Router, core: CoreServices): void {
  for (const [collection, kind, pageSchema, itemSchema] of COLLECTIONS) {
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
        reply(res, 200, pageSchema, listing as Schema<typeof pageSchema>);
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
