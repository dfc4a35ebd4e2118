/** API tokens: issue (secret shown once), list, revoke. Admin only. */
import type { Router } from 'express';
import type { Role } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { principal, route } from '../http.js';
import { reply } from '../schemas.js';

export function tokenRoutes(router: Router, core: CoreServices): void {
  router.post(
    '/tokens',
    route(async (req, res) => {
      const body = req.body as { name: string; role: Role };
      const issued = await core.auth.issue(body.name, body.role, principal(res).tokenId);
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
      await core.auth.revoke(String(req.params.tokenId), principal(res).tokenId);
      res.status(204).end();
    }),
  );
}
