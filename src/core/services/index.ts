/** The core's public surface for fronts: every front (REST, EC2, OCCI) is handed this bundle. */
import type { EventBus } from '../events.js';
import type { OperationEngine } from '../operations/engine.js';
import type { ProviderRegistry } from '../registry.js';
import type { Store } from '../store-port.js';
import type { AccessKeyService } from './access-keys.js';
import type { AuthService } from './auth.js';
import type { InstanceAttributeService } from './instance-attributes.js';
import type { InventoryService } from './inventory.js';
import type { KeyPairService } from './key-pairs.js';
import type { NetworkService } from './network-service.js';
import type { ResourceService } from './resource-service.js';
import type { PortabilityService } from '../../portability/portability-service.js';

export interface CoreServices {
  store: Store;
  registry: ProviderRegistry;
  inventory: InventoryService;
  engine: OperationEngine;
  events: EventBus;
  auth: AuthService;
  resources: ResourceService;
  /** EC2-style access keys (SigV4), tied to API tokens. */
  accessKeys: AccessKeyService;
  instanceAttributes: InstanceAttributeService;
  keyPairs: KeyPairService;
  network: NetworkService;
  /** OVF/OVA export, import and replication of images. */
  portability: PortabilityService;
}

export { AccessKeyService } from './access-keys.js';
export { AuthService } from './auth.js';
export { InstanceAttributeService } from './instance-attributes.js';
export { KeyPairService } from './key-pairs.js';
export { NetworkService } from './network-service.js';
export { InventoryService } from './inventory.js';
export { ResourceService } from './resource-service.js';
export { SecretBox } from './secret-box.js';
