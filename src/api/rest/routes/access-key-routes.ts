/** Access key pairs for the EC2 front: issue (secret shown once), list, revoke; each caller manages their own. */
import type { Router } from 'express';
import type { AccessKey, Role } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { principal, route } from '../http.js';
import { reply, type Schema } from '../schemas.js';

function render(key: AccessKey): Schema<'AccessKey'> {
  const { id, ...rest } = key;
  return { accessKeyId: id, ...rest };
}

export function accessKeyRoutes(router: Router, core: CoreServices): void {
  router.post(
    '/access-keys',
    route(async (req, res) => {
      const body = (req.body ?? {}) as { name?: string; role?: Role };
      const { secretAccessKey, revokedAt: _never, ...key } = await core.accessKeys.issue(principal(res), body);
      reply(res, 201, 'CreatedAccessKey', { ...render(key), secretAccessKey });
    }),
  );
  router.get(
    '/access-keys',
    route(async (_req, res) =>
      reply(res, 200, 'AccessKeyList', { items: (await core.accessKeys.list(principal(res))).map(render) }),
    ),
  );
  router.delete(
    '/access-keys/:accessKeyId',
    route(async (req, res) => {
      const id = String(req.params.accessKeyId);
      await core.accessKeys.revoke(principal(res), id);
      res.status(204).end();
    }),
  );
}
