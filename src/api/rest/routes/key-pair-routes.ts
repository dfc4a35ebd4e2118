/** SSH key pairs per provider: list, get, import a public key or have one generated (private key shown once), delete. */
import type { Router } from 'express';
import { SkygateError, invalid } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { caller, route } from '../http.js';
import { reply, type Schema } from '../schemas.js';
import { inRestTerms, providerInPath } from './rest-terms.js';

// KeyPairService speaks EC2's parameter names.
const FIELDS = { keyName: 'body.name', publicKeyMaterial: 'body.publicKey' };

export function keyPairRoutes(router: Router, core: CoreServices): void {
  const keyName = (req: { params: Record<string, unknown> }) => String(req.params.keyName);

  router.get(
    '/providers/:providerId/key-pairs',
    route(async (req, res) => reply(res, 200, 'KeyPairList', { items: await core.keyPairs.list(providerInPath(core, req)) })),
  );
  router.post(
    '/providers/:providerId/key-pairs',
    route(async (req, res) => {
      const provider = providerInPath(core, req);
      const { name, publicKey, keyType, tags } = req.body as Schema<'CreateKeyPairRequest'>;
      if (publicKey !== undefined) {
        if (keyType !== undefined)
          throw invalid('body.keyType', 'is only for a generated key; an imported key is of its own type');
        reply(
          res,
          201,
          'CreatedKeyPair',
          await inRestTerms(FIELDS, () => core.keyPairs.import(provider, name, publicKey, caller(req, res), tags)),
        );
        return;
      }
      const { keyPair, privateKey } = await inRestTerms(FIELDS, () =>
        core.keyPairs.generate(provider, name, caller(req, res), keyType, tags),
      );
      // The only copy of a private key: no cache may keep it.
      res.set('Cache-Control', 'no-store');
      reply(res, 201, 'CreatedKeyPair', { ...keyPair, privateKey });
    }),
  );
  router.get(
    '/providers/:providerId/key-pairs/:keyName',
    route(async (req, res) =>
      reply(res, 200, 'KeyPair', await core.keyPairs.get(providerInPath(core, req), keyName(req), 'path.keyName')),
    ),
  );
  router.delete(
    '/providers/:providerId/key-pairs/:keyName',
    route(async (req, res) => {
      const provider = providerInPath(core, req);
      // The core forgives deleting a missing key pair (as EC2 does); a REST DELETE of nothing is a 404.
      if (!(await core.keyPairs.delete(provider, keyName(req), caller(req, res)))) {
        throw new SkygateError('not_found', `key pair '${keyName(req)}' does not exist at provider '${provider}'`, {
          field: 'path.keyName',
        });
      }
      res.status(204).end();
    }),
  );
}
