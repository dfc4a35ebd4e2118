/** What every front can reach (tags, key pairs, instance attributes, default networks), registered as one. */
import type { Router } from 'express';
import type { CoreServices } from '../../../core/services/index.js';
import { instanceAttributeRoutes } from './instance-attribute-routes.js';
import { keyPairRoutes } from './key-pair-routes.js';
import { networkRoutes } from './network-routes.js';
import { tagRoutes } from './tag-routes.js';

export function reachRoutes(router: Router, core: CoreServices): void {
  tagRoutes(router, core);
  keyPairRoutes(router, core);
  instanceAttributeRoutes(router, core);
  networkRoutes(router, core);
}
