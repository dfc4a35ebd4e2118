/** Each provider's default network: the network, its subnet per zone and its default security group. */
import type { Router } from 'express';
import type { CoreServices } from '../../../core/services/index.js';
import { route } from '../http.js';
import { reply } from '../schemas.js';
import { providerInPath } from './rest-terms.js';

export function networkRoutes(router: Router, core: CoreServices): void {
  router.get(
    '/providers/:providerId/network',
    route(async (req, res) => reply(res, 200, 'DefaultNetwork', await core.network.defaults(providerInPath(core, req)))),
  );
}
