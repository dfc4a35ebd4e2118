/**
 * The core's services, the bundle every front (REST, EC2, OCCI) is handed. Fronts get services only: the
 * store, the provider registry and the operations engine stay behind them.
 */
import type { ProtectionGroupService } from '../../ha/protection-group-service.js';
import type { PortabilityService } from '../../portability/portability-service.js';
import type { EventBus } from '../events.js';
import type { Store } from '../store-port.js';
import type { AccessKeyService } from './access-keys.js';
import type { AuthService } from './auth.js';
import type { InstanceAttributeService } from './instance-attributes.js';
import type { InventoryService } from './inventory.js';
import type { KeyPairService } from './key-pairs.js';
import type { LaunchService } from './launch-service.js';
import type { NetworkService } from './network-service.js';
import type { OperationService } from './operation-service.js';
import type { ProviderService } from './provider-service.js';
import type { ResourceService } from './resource-service.js';

/** Where a dialect keeps its own ids for skygate resources (EC2's `i-…`). */
export type IdAliasStore = Pick<Store, 'putIdAliases' | 'getIdAliases'>;

export interface CoreServices {
  providers: ProviderService;
  inventory: InventoryService;
  operations: OperationService;
  /** The event stream (audit and changes), for reading and subscribing. */
  events: Pick<EventBus, 'since' | 'subscribe'>;
  auth: AuthService;
  /** Launching instances (one or many), for every front. */
  launches: LaunchService;
  /** Actions, tags, images, volumes and snapshots. */
  resources: ResourceService;
  /** EC2-style access keys (SigV4), tied to API tokens. */
  accessKeys: AccessKeyService;
  instanceAttributes: InstanceAttributeService;
  keyPairs: KeyPairService;
  network: NetworkService;
  /** OVF/OVA export, import and replication of images. */
  portability: PortabilityService;
  /** HA protection groups: their specs, status and replicas, and the moves the controller runs. */
  protection: ProtectionGroupService;
  idAliases: IdAliasStore;
}

export { AccessKeyService } from './access-keys.js';
export { AuthService } from './auth.js';
export { InstanceAttributeService } from './instance-attributes.js';
export { KeyPairService } from './key-pairs.js';
export { LaunchService } from './launch-service.js';
export { NetworkService } from './network-service.js';
export { InventoryService } from './inventory.js';
export { OperationService } from './operation-service.js';
export { ProviderService } from './provider-service.js';
export { ResourceService } from './resource-service.js';
export { SecretBox } from './secret-box.js';
