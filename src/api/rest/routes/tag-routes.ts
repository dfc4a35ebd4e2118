/** Tags of instances, images, volumes and snapshots: read, replace them all (PUT) or merge-patch some keys (PATCH). */
import type { Router } from 'express';
import type { TaggableKind, Tags } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { caller, route } from '../http.js';
import { reply, type Schema } from '../schemas.js';
import { inRestTerms } from './rest-terms.js';

const COLLECTIONS = [
  ['instances', 'instance'],
  ['images', 'image'],
  ['volumes', 'volume'],
  ['snapshots', 'snapshot'],
] as const satisfies ReadonlyArray<readonly [string, TaggableKind]>;

// The core (and the adapters) call the tags they refuse `tags`; in this front they sit at `body.tags`.
const FIELDS = { tags: 'body.tags' };

const render = (resource: { id: string; tags: Tags }): Schema<'ResourceTags'> => ({ id: resource.id, tags: resource.tags });

export function tagRoutes(router: Router, core: CoreServices): void {
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);
  for (const [collection, kind] of COLLECTIONS) {
    router.get(
      `/${collection}/:id/tags`,
      route(async (req, res) => reply(res, 200, 'ResourceTags', render(await core.inventory.get(kind, id(req))))),
    );
    router.put(
      `/${collection}/:id/tags`,
      route(async (req, res) => {
        const { tags } = req.body as Schema<'ReplaceTagsRequest'>;
        const change = { set: tags, replace: true };
        reply(
          res,
          200,
          'ResourceTags',
          render(await inRestTerms(FIELDS, () => core.resources.changeTags(kind, id(req), change, caller(req, res), 'path.id'))),
        );
      }),
    );
    router.patch(
      `/${collection}/:id/tags`,
      route(async (req, res) => {
        // A JSON merge patch of the tags: a string sets the key, null removes it.
        const entries = Object.entries((req.body as Schema<'UpdateTagsRequest'>).tags);
        const change = {
          set: Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== null)),
          remove: entries.filter(([, value]) => value === null).map(([key]) => ({ key })),
        };
        reply(
          res,
          200,
          'ResourceTags',
          render(await inRestTerms(FIELDS, () => core.resources.changeTags(kind, id(req), change, caller(req, res), 'path.id'))),
        );
      }),
    );
  }
}
