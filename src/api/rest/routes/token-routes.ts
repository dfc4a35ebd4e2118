/** API tokens: issue (secret shown once), list, revoke. Admin only. */
import type { Router } from 'express';
import type { Role } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { route } from '../http.js';
import { reply } from '../schemas.js';

export function tokenRoutes(router: Router, core: CoreServices): void {
  router.post(
    '/tokens',
    route(async (req, res) => {
      const body = req.body as { name: string; role: Role };
      const issued = await core.auth.issue(body.name, body.role);
      await core.events.emit('token.issued', issued.id, { name: issued.name, role: issued.role });
      reply(res, 201, 'CreatedApiToken', issued);
    }),
  );
  router.get(
    '/tokens',
    route(async (_req, res) => reply(res, 200, 'ApiTokenList', { items: await core.auth.list() })),
  );
  router.delete(
    '/tokens/:tokenId',
    route(async (req, res) => {
      await core.auth.revoke(String(req.params.tokenId));
      await core.events.emit('token.revoked', String(req.params.tokenId), {});
      res.status(204).end();
    }),
  );
}
