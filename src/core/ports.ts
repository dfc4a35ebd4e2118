/**
 * The ports adapters implement. Adapters speak native ids (no `provider:` prefix) and
 * throw SkygateError; the core adds prefixes, caches and operations around them.
 */
import type { Readable } from 'node:stream';
import type { Capabilities, Flavor, Image, Instance, ProviderHealth, ResourceKind, Snapshot, Tags, Volume } from './model.js';

type Native<T> = Omit<T, 'id' | 'provider' | 'observedAt' | 'freshness'>;

/** The kinds of resource that carry tags. */
export type TaggableKind = Exclude<ResourceKind, 'flavor'>;

/** The kinds of resource that can be renamed in place. */
export type RenamableKind = Extract<ResourceKind, 'instance' | 'volume'>;

/** A resource as an adapter reports it; references (imageId, flavorId, volumeId...) are native ids. */
export type NativeInstance = Native<Instance>;
export type NativeImage = Native<Image>;
export type NativeSnapshot = Native<Snapshot>;
export type NativeVolume = Native<Volume>;
export type NativeFlavor = Native<Flavor>;

/** Each listed kind's native form (flavors are static and left out of change tracking). */
export interface NativeOfKind {
  instance: NativeInstance;
  image: NativeImage;
  snapshot: NativeSnapshot;
  volume: NativeVolume;
}

/** What `listChanges` answers. */
export interface NativeChanges<T> {
  /** The token to pass as `since` next time. */
  next: string;
  /**
   * Resources to show again (changed, new, or asked for in `recheck`) and native ids no longer listed; absent when
   * the adapter cannot tell (no `since`, a token it does not know or no longer covers, too many changes): the
   * caller then lists everything, which `next` already covers.
   */
  changes?: { items: T[]; gone: string[] };
}

export interface PageRequest {
  limit?: number;
  /** The provider's own continuation marker from a previous page. */
  marker?: string;
}

export interface NativePage<T> {
  items: T[];
  /** Present when more items follow. */
  marker?: string;
}

export interface CreateInstanceSpec {
  name: string;
  flavorId: string;
  imageId: string;
  zone?: string;
  tags?: Tags;
  userData?: string;
  keyName?: string;
  /** The native id of a network created beside the default one (capability networks); absent: the default network. */
  networkId?: string;
  /**
   * Idempotency token: a second create with the same token returns the first instance.
   * The operations engine always passes its operation id, which is what makes a resumed
   * create after a crash safe.
   */
  clientToken: string;
}

export interface CreateImageSpec {
  name: string;
  tags?: Tags;
  clientToken: string;
}

export interface CreateVolumeSpec {
  name: string;
  sizeGiB: number;
  zone?: string;
  snapshotId?: string;
  tags?: Tags;
  clientToken: string;
}

export interface CreateSnapshotSpec {
  name: string;
  tags?: Tags;
  clientToken: string;
}

export interface UploadImageSpec {
  name: string;
  diskFormat: NativeImage['diskFormat'];
  sizeBytes?: number;
  minDiskGiB?: number;
  os?: string;
  tags?: Tags;
  clientToken: string;
}

/** A network to create (capability networks): an IPv4 block and its gateway (default: the block's first host). */
export interface CreateNetworkSpec {
  name: string;
  cidr: string;
  gateway?: string;
  tags?: Tags;
  /** Idempotency token: the call policy retries a create that timed out, and the retry returns the first network. */
  clientToken: string;
}

/** A network as an adapter reports it (native id). */
export interface NativeNetwork {
  nativeId: string;
  name: string;
  cidr: string;
  gateway: string;
  /** The zone the network's one subnet is in, where the provider places subnets in a zone (AWS); absent elsewhere. */
  zone?: string;
  state: 'available';
  tags: Tags;
  createdAt: string;
}

export interface AdapterContext {
  providerId: string;
  /** Adapter-specific settings from the config file, already secret-resolved. */
  settings: Record<string, unknown>;
  /** Where an adapter may keep files (the sim keeps its state and disks there). */
  dataDir: string;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

/** Where a provider's native image copy reaches; see `CloudAdapter.imageCopyScope`. */
export interface ImageCopyScope {
  /**
   * Two providers whose domains are equal can copy images between each other with `copyImageFrom`
   * (for EC2: one partition, one endpoint, one account). Opaque to the core, and free of secrets.
   */
  domain: string;
  /** Where this provider's images live within the domain, as `copyImageFrom`'s `source.region` takes it. */
  region: string;
}

/** Compute, image and block storage of one cloud account+region. */
export interface CloudAdapter {
  readonly type: string;
  readonly providerId: string;
  capabilities(): Capabilities;
  /** Why a capability is false, where the adapter can say (the core's refusal repeats it). */
  readonly capabilityNotes?: Partial<Record<keyof Capabilities, string>>;
  zones(): Promise<string[]>;
  health(): Promise<ProviderHealth>;

  listFlavors(): Promise<NativeFlavor[]>;

  listInstances(page?: PageRequest): Promise<NativePage<NativeInstance>>;
  /**
   * Optional, for adapters that know it cheaply (the sim): what changed in `kind` since `since` (a `next` an earlier
   * call answered), plus the current form of each native id in `recheck`, so that refreshing the inventory of an
   * unchanged provider costs almost nothing. Adapters without it are listed in full on every refresh.
   */
  listChanges?<K extends TaggableKind>(
    kind: K,
    since: string | undefined,
    recheck: readonly string[],
  ): Promise<NativeChanges<NativeOfKind[K]>>;
  getInstance(id: string): Promise<NativeInstance>;
  createInstance(spec: CreateInstanceSpec): Promise<NativeInstance>;
  /** Starts a stopped instance, or resumes a suspended one. */
  startInstance(id: string): Promise<void>;
  stopInstance(id: string): Promise<void>;
  /** Suspends a running instance (capability suspend); `startInstance` resumes it. Repeating it is harmless. */
  suspendInstance?(id: string): Promise<void>;
  rebootInstance(id: string): Promise<void>;
  deleteInstance(id: string): Promise<void>;
  /**
   * Renames an instance or a volume in place (EC2: its Name tag; OpenStack: the nova server's or cinder
   * volume's name). An adapter that can rename only some kinds throws `unsupported` for the others.
   */
  rename?(kind: RenamableKind, id: string, name: string): Promise<void>;
  /** Replaces every tag of one resource with `tags` (a key left out is removed). */
  setTags?(kind: TaggableKind, id: string, tags: Tags): Promise<void>;

  listImages(page?: PageRequest): Promise<NativePage<NativeImage>>;
  getImage(id: string): Promise<NativeImage>;
  /** Snapshot an instance's boot disk into a new image (Nova createImage, EC2 CreateImage). */
  createImageFromInstance(instanceId: string, spec: CreateImageSpec): Promise<NativeImage>;
  deleteImage(id: string): Promise<void>;
  /** Stream an image's disk out (capability imageDownload). */
  downloadImage?(id: string): Promise<{ stream: Readable; sizeBytes: number; diskFormat: NativeImage['diskFormat'] }>;
  /** Create an image from a stream of disk bytes (capability imageUpload). */
  uploadImage?(spec: UploadImageSpec, data: Readable): Promise<NativeImage>;
  /**
   * Where this provider's native image copy reaches (capability nativeImageCopy). Local: no provider call.
   * Replication copies natively only between two providers of one type whose scopes share a `domain`.
   */
  imageCopyScope?(): ImageCopyScope;
  /**
   * Starts a copy of an image from another provider in the same copy domain into this one (EC2 CopyImage,
   * called at the destination) and answers the new image, usually still pending: waiting for it is the
   * caller's. Idempotent through `spec.clientToken`. Replication prefers it to moving the bytes itself.
   */
  copyImageFrom?(source: { region: string; nativeId: string }, spec: CreateImageSpec): Promise<NativeImage>;

  listSnapshots(page?: PageRequest): Promise<NativePage<NativeSnapshot>>;
  getSnapshot(id: string): Promise<NativeSnapshot>;
  createSnapshot(volumeId: string, spec: CreateSnapshotSpec): Promise<NativeSnapshot>;
  deleteSnapshot(id: string): Promise<void>;

  listVolumes(page?: PageRequest): Promise<NativePage<NativeVolume>>;
  getVolume(id: string): Promise<NativeVolume>;
  createVolume(spec: CreateVolumeSpec): Promise<NativeVolume>;
  attachVolume(volumeId: string, instanceId: string, device?: string): Promise<void>;
  detachVolume(volumeId: string): Promise<void>;
  deleteVolume(id: string): Promise<void>;

  /** Networks beside the default one (capability networks). */
  createNetwork?(spec: CreateNetworkSpec): Promise<NativeNetwork>;
  listNetworks?(): Promise<NativeNetwork[]>;
  deleteNetwork?(id: string): Promise<void>;
  /** Renames a created network and/or replaces its tags (`tags`: the whole new set, a key left out is removed). */
  updateNetwork?(id: string, change: { name?: string; tags?: Tags }): Promise<NativeNetwork>;

  /** Provider-specific extras (Libcloud's `ex_`): never reached by the core by accident. */
  readonly extensions?: Record<string, (...args: unknown[]) => Promise<unknown>>;

  close?(): Promise<void>;
}

export type TargetState = 'active' | 'draining' | 'maintenance';
export type TargetHealth = 'healthy' | 'unhealthy' | 'draining' | 'maintenance' | 'unknown';

export interface LbTarget {
  /** Target id within the pool: `host:port`, an instance id, etc. */
  id: string;
  address: string;
  port: number;
  state: TargetState;
  health: TargetHealth;
  weight?: number;
}

/** What registers a target: its address and port (its id is `address:port`), and optionally weight and first state. */
export interface LbTargetSpec {
  address: string;
  port: number;
  weight?: number;
  /**
   * The state a new target starts in (default `active`), so a fenced target re-registered after its load balancer
   * forgot it never takes traffic on the way to maintenance. An adapter that cannot start a target in another state
   * registers it active: callers check the answer's `state` and set it right after.
   */
  state?: TargetState;
}

/** A load balancer's pools and targets: what the HA module flips on failover. */
export interface LoadBalancerAdapter {
  readonly type: string;
  readonly providerId: string;
  listPools(): Promise<Array<{ id: string; name: string }>>;
  listTargets(poolId: string): Promise<LbTarget[]>;
  registerTarget(poolId: string, target: LbTargetSpec): Promise<LbTarget>;
  deregisterTarget(poolId: string, targetId: string): Promise<void>;
  setTargetState(poolId: string, targetId: string, state: TargetState): Promise<void>;
  /** Changes a target's weight where the load balancer weighs targets (HAProxy, sim; not ELBv2); 0 takes it out of rotation. */
  setTargetWeight?(poolId: string, targetId: string, weight: number): Promise<LbTarget>;
  /**
   * Points a registered target at another address and port in place (HAProxy's `set server … addr … port …`), keeping
   * its state and weight; its id changes with them. A `conflict` when the pool already holds that address and port.
   */
  setTargetAddress?(poolId: string, targetId: string, to: { address: string; port: number }): Promise<LbTarget>;
  /**
   * The longest one call may take by this adapter's own settings (Octavia waits for its load balancer to be
   * ACTIVE again after each change); the call policy's deadline is never shorter than this.
   */
  readonly callTimeoutMs?: number;
  /** Provider-specific extras, as on CloudAdapter (the sim's simulated health checks). */
  readonly extensions?: Record<string, (...args: unknown[]) => Promise<unknown>>;
  close?(): Promise<void>;
}

export type CloudAdapterFactory = (ctx: AdapterContext) => Promise<CloudAdapter> | CloudAdapter;
export type LoadBalancerAdapterFactory = (ctx: AdapterContext) => Promise<LoadBalancerAdapter> | LoadBalancerAdapter;

/** What an adapter module's `index.ts` exports; loaded lazily by type name. */
export interface AdapterModule {
  createCloudAdapter?: CloudAdapterFactory;
  createLoadBalancerAdapter?: LoadBalancerAdapterFactory;
}
