/** The unified resource model: what every front renders and every service returns. */

export type Tags = Record<string, string>;

export type InstanceState =
  | 'pending'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'rebooting'
  | 'suspending'
  | 'suspended'
  | 'terminating'
  | 'terminated'
  | 'error';
export type ImageState = 'pending' | 'available' | 'failed' | 'deleted';
export type SnapshotState = 'pending' | 'available' | 'failed' | 'deleted';
export type VolumeState = 'creating' | 'available' | 'attaching' | 'in-use' | 'detaching' | 'deleting' | 'deleted' | 'error';

export type ResourceKind = 'instance' | 'image' | 'snapshot' | 'volume' | 'flavor';

/** Inventory freshness: `fresh` came from the provider in this refresh, `stale` from the cache. */
export type Freshness = 'fresh' | 'stale';

interface Owned {
  /** `providerId:nativeId` — the id every API uses. */
  id: string;
  provider: string;
  nativeId: string;
  /** When skygate last saw this resource at its provider (ISO 8601). */
  observedAt: string;
  freshness?: Freshness;
}

export interface Instance extends Owned {
  name: string;
  state: InstanceState;
  flavorId: string;
  imageId: string;
  zone: string;
  privateIp?: string;
  publicIp?: string;
  /** The network created beside the default one that the instance is on (capability networks); absent: the default network. */
  networkId?: string;
  tags: Tags;
  createdAt: string;
}

export interface Image extends Owned {
  name: string;
  state: ImageState;
  sizeBytes: number;
  diskFormat: 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'ami';
  minDiskGiB: number;
  os?: string;
  sourceInstanceId?: string;
  tags: Tags;
  createdAt: string;
}

export interface Snapshot extends Owned {
  name: string;
  state: SnapshotState;
  volumeId: string;
  sizeGiB: number;
  tags: Tags;
  createdAt: string;
}

export interface Volume extends Owned {
  name: string;
  state: VolumeState;
  sizeGiB: number;
  zone: string;
  attachedTo?: string;
  device?: string;
  snapshotId?: string;
  tags: Tags;
  createdAt: string;
}

export interface Flavor extends Owned {
  name: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export type ResourceOf<K extends ResourceKind> = K extends 'instance'
  ? Instance
  : K extends 'image'
    ? Image
    : K extends 'snapshot'
      ? Snapshot
      : K extends 'volume'
        ? Volume
        : Flavor;

export type HealthStatus = 'up' | 'degraded' | 'down' | 'unknown';

export interface ProviderHealth {
  status: HealthStatus;
  checkedAt: string;
  latencyMs?: number;
  message?: string;
}

export interface Capabilities {
  instances: boolean;
  images: boolean;
  snapshots: boolean;
  volumes: boolean;
  /** Image bytes can be read out of the provider (needed for export and replication). */
  imageDownload: boolean;
  /** Image bytes can be written into the provider (needed for import and replication). */
  imageUpload: boolean;
  /** The provider copies images itself between its own regions. */
  nativeImageCopy: boolean;
  /** Create calls honour a client token, so a retried create cannot make a second resource. */
  idempotentCreate: boolean;
  /** Instances can be suspended (memory kept, nova's suspend) and resumed by a start. */
  suspend: boolean;
  /** Networks beside the default one can be created, listed and deleted (`createNetwork`...). */
  networks: boolean;
  /** Provider-specific extras, reachable only through the explicit extensions surface. */
  extensions: string[];
}

export interface Provider {
  id: string;
  type: string;
  displayName: string;
  region?: string;
  zones: string[];
  health: ProviderHealth;
  capabilities: Capabilities;
}

export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface OperationStep {
  name: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

export interface Operation {
  id: string;
  kind: string;
  status: OperationStatus;
  /** 0..100 */
  progress: number;
  provider?: string;
  /** The resource the operation acts on or creates, once known. */
  target?: string;
  input: Record<string, unknown>;
  steps: OperationStep[];
  /** Scratch state a command keeps between steps, so a resumed operation picks up where it stopped. */
  state: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: import('./errors.js').SerializedError;
  idempotencyKey?: string;
  createdBy?: string;
  createdAt: string;
  updatedAt: string;
  /** Attempts at running it: above 1 means the gateway resumed it after a restart. */
  attempts: number;
}

export interface SkygateEvent {
  /** Monotonic sequence number, usable as SSE `Last-Event-ID`. */
  seq: number;
  type: string;
  time: string;
  subject?: string;
  data: Record<string, unknown>;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  nextCursor?: string;
}
