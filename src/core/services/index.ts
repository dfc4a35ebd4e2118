/** The core's public surface for fronts: every front (REST, EC2, OCCI) is handed this bundle. */
import type { EventBus } from '../events.js';
import type { OperationEngine } from '../operations/engine.js';
import type { ProviderRegistry } from '../registry.js';
import type { Store } from '../../store/types.js';
import type { AuthService } from './auth.js';
import type { InventoryService } from './inventory.js';
import type { ResourceService } from './resource-service.js';

export interface CoreServices {
  store: Store;
  registry: ProviderRegistry;
  inventory: InventoryService;
  engine: OperationEngine;
  events: EventBus;
  auth: AuthService;
  resources: ResourceService;
}

export { AuthService } from './auth.js';
export { InventoryService } from './inventory.js';
export { ResourceService } from './resource-service.js';
