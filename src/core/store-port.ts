/** The durable store's port (owned by the core): one interface, SQLite (default) and PostgreSQL behind it in src/store. */
import type { Operation, OperationStatus, ResourceKind, ResourceOf, Role, SkygateEvent, Tags } from './model.js';
import type { TargetState } from './ports.js';

export interface InventoryQuery {
  kind: ResourceKind;
  providers?: string[];
  state?: string;
  /** Exact name match. */
  name?: string;
  /** Every tag filter must match: `{key}` means the tag exists, `{key, value}` that it has that value. */
  tags?: Array<{ key: string; value?: string }>;
  limit: number;
  /** Return items whose id sorts after this one (keyset pagination). */
  after?: string;
}

export interface ProviderSyncState {
  provider: string;
  kind: ResourceKind;
  /** Last successful refresh from the provider (ISO 8601), absent if never. */
  observedAt?: string;
  /** Last attempt (ISO 8601). */
  attemptedAt: string;
  ok: boolean;
  error?: string;
}

export interface OperationQuery {
  status?: OperationStatus[];
  kind?: string;
  provider?: string;
  limit: number;
  /** Operations created before this id in the listing order (newest first). */
  after?: string;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt?: string;
}

/** An access key pair (EC2 SigV4 credentials) issued to a token; it acts with at most that token's role. */
export interface AccessKey {
  /** The public half (`AKIA…`-shaped). */
  id: string;
  tokenId: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt?: string;
}

/** The secret half, as kept at rest: base64 of iv | auth tag | AES-256-GCM ciphertext. */
export type StoredAccessKey = AccessKey & { secret: string };

/** Another dialect's id for a skygate resource (`i-0abc…` in EC2 for `sim-east:i-…`). */
export interface IdAlias {
  namespace: string;
  alias: string;
  kind: string;
  /** The skygate id. */
  target: string;
}

/** An imported SSH public key, per provider (an EC2 key pair). */
export interface KeyPair {
  id: string;
  provider: string;
  name: string;
  keyType: 'rsa' | 'ed25519' | 'ecdsa';
  fingerprint: string;
  /** The OpenSSH public key line. */
  publicKey: string;
  tags: Tags;
  createdAt: string;
}

/** Per-instance settings the provider APIs do not carry (EC2 instance attributes); absent ones take their defaults. */
export interface InstanceAttributes {
  disableApiTermination?: boolean;
  instanceInitiatedShutdownBehavior?: 'stop' | 'terminate';
  sourceDestCheck?: boolean;
  ebsOptimized?: boolean;
  /** base64, as given at launch or set later. */
  userData?: string;
  keyName?: string;
  /** Security group ids (skygate ids) the instance is in. */
  securityGroups?: string[];
  /** One launch request (EC2 reservation) can start several instances; this names it and the instance's place in it. */
  launchId?: string;
  launchIndex?: number;
  clientToken?: string;
  /** What the launch said of the instance's one network interface (shown back by EC2 describes). */
  networkInterface?: { description?: string; deleteOnTermination?: boolean };
}

export interface InstanceAttributeRecord {
  instanceId: string;
  attributes: InstanceAttributes;
  updatedAt: string;
}

/** One target a load balancer pool should hold; its id there is `address:port`. */
export interface DesiredTarget {
  address: string;
  port: number;
  state: TargetState;
  /** Absent: whatever the load balancer gives (for load balancers without weights, such as ELBv2). */
  weight?: number;
}

/**
 * What skygate wants one pool of one load balancer to hold, kept because a load balancer can forget (HAProxy loses
 * runtime changes on restart or reload); the reconcile loop re-applies it.
 */
export interface DesiredPool {
  /** The provider whose load balancer holds the pool. */
  lbProvider: string;
  poolId: string;
  /** The complete set: a target the pool holds beyond these is removed. */
  targets: DesiredTarget[];
  /** Grows by one with every change, so a writer can make its change conditional on the version it read. */
  generation: number;
  updatedAt: string;
}

/**
 * A fencing token: the lease it was taken under and its number. A write that carries one is made only while the
 * lease still holds that number (checked in the write's own transaction), so a controller that lost its lease
 * cannot change anything after another took over.
 */
export interface Fence {
  lease: string;
  token: number;
}

/** Who may act for a protection group: one holder at a time, until `expiresAt`; the token grows on every takeover. */
export interface Lease {
  name: string;
  holder: string;
  token: number;
  expiresAt: string;
}

/**
 * A protection group as stored (HA): its spec (what the operator asked for) and status (what the controller
 * found and did), both JSON documents whose types live in `src/ha`. `generation` grows with every write.
 */
export interface ProtectionGroupRecord {
  id: string;
  name: string;
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
  generation: number;
  createdAt: string;
  updatedAt: string;
}

/** One replica: an image at a site holding a protected instance's data as of `dataAt`. */
export interface ReplicaRecord {
  id: string;
  groupId: string;
  /** The protected member it is a copy of (stable across failovers). */
  member: string;
  /** Where it was taken from: provider and instance. */
  sourceProvider: string;
  sourceInstanceId: string;
  /** The capture image at the source (deleted with the replica by retention, unless it is the site's own copy). */
  sourceImageId?: string;
  /** The provider it is kept in, and its image id there. */
  site: string;
  imageId: string;
  /** When the data it holds was taken (the capture's start): its age is the RPO it gives. */
  dataAt: string;
  createdAt: string;
}

export interface IdempotencyRecord {
  principal: string;
  key: string;
  requestHash: string;
  operationId: string;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Inventory cache: the single pane of glass reads from here.
  /** Replace every cached resource of `kind` at `provider` with `items` (those not listed are removed). */
  replaceInventory<K extends ResourceKind>(provider: string, kind: K, items: ResourceOf<K>[], observedAt: string): Promise<void>;
  /**
   * Applies a refresh whose changes the caller already knows (the in-memory view diffed it): writes
   * `changed`, removes `gone`, and marks every other resource of `provider` as observed at `observedAt`.
   */
  patchInventory<K extends ResourceKind>(
    provider: string,
    kind: K,
    changes: { changed: ResourceOf<K>[]; gone: string[] },
    observedAt: string,
  ): Promise<void>;
  putResource<K extends ResourceKind>(kind: K, item: ResourceOf<K>): Promise<void>;
  deleteResource(kind: ResourceKind, id: string): Promise<void>;
  getResource<K extends ResourceKind>(kind: K, id: string): Promise<ResourceOf<K> | undefined>;
  queryInventory<K extends ResourceKind>(q: InventoryQuery & { kind: K }): Promise<ResourceOf<K>[]>;
  putSyncState(state: ProviderSyncState): Promise<void>;
  getSyncStates(kind?: ResourceKind): Promise<ProviderSyncState[]>;

  // Operations engine.
  /**
   * Inserts `op`. With `idempotency`, atomically: if (principal, key) is already recorded, nothing is
   * inserted and the earlier record (with its operation) is answered instead, so two concurrent
   * retries of one create get the same operation.
   */
  insertOperation(
    op: Operation,
    idempotency?: Omit<IdempotencyRecord, 'operationId'>,
  ): Promise<{ operation: Operation; created: boolean; requestHash?: string }>;
  /** Overwrites the mutable parts (status, progress, steps, state, result, error, target, attempts, updatedAt). */
  updateOperation(op: Operation): Promise<void>;
  getOperation(id: string): Promise<Operation | undefined>;
  listOperations(q: OperationQuery): Promise<Operation[]>;
  /** Operations a crashed or restarted gateway left pending or running. */
  unfinishedOperations(): Promise<Operation[]>;

  // Event stream (append-only).
  appendEvent(e: Omit<SkygateEvent, 'seq'>): Promise<SkygateEvent>;
  eventsSince(seq: number, limit: number): Promise<SkygateEvent[]>;

  // API tokens, stored as SHA-256 hashes.
  insertToken(token: ApiToken & { hash: string }): Promise<void>;
  findTokenByHash(hash: string): Promise<ApiToken | undefined>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, at: string): Promise<boolean>;
  /** A token by id, revoked or not. */
  getToken(id: string): Promise<ApiToken | undefined>;

  // Access keys (secrets encrypted by the caller).
  insertAccessKey(key: StoredAccessKey): Promise<void>;
  /** The key whether revoked or not; callers check `revokedAt`. */
  getAccessKey(id: string): Promise<StoredAccessKey | undefined>;
  /** Keys oldest first, of one token when `tokenId` is given; secrets are not read. */
  listAccessKeys(tokenId?: string): Promise<AccessKey[]>;
  /** True when the key exists; revoking twice keeps the first time. */
  revokeAccessKey(id: string, at: string): Promise<boolean>;

  // Id aliases: other dialects' ids for skygate resources.
  /** Records aliases; an alias already recorded keeps its first target. */
  putIdAliases(aliases: IdAlias[]): Promise<void>;
  getIdAliases(namespace: string, aliases: string[]): Promise<IdAlias[]>;

  // Key pairs, per provider.
  /** False when `provider` already has a key pair of that name (nothing is written). */
  insertKeyPair(keyPair: KeyPair): Promise<boolean>;
  /** Key pairs of `provider` by name. */
  listKeyPairs(provider: string): Promise<KeyPair[]>;
  deleteKeyPair(provider: string, name: string): Promise<boolean>;

  // Instance attributes.
  getInstanceAttributes(instanceIds: string[]): Promise<InstanceAttributeRecord[]>;
  /** Replaces the attributes of one instance. */
  putInstanceAttributes(record: InstanceAttributeRecord): Promise<void>;

  // Load balancer desired state (HA): the pools skygate manages and what each should hold.
  getDesiredPool(lbProvider: string, poolId: string): Promise<DesiredPool | undefined>;
  /** Every managed pool, ordered by load balancer and pool. */
  listDesiredPools(): Promise<DesiredPool[]>;
  /**
   * Replaces a pool's targets in one transaction and answers it with its generation grown by one. With
   * `expectGeneration`, the write happens only if the stored generation is that one (0: the pool is not managed
   * yet), else `conflict`: another writer changed it since it was read. With `fence`, the write happens only while
   * that lease holds that token, else `conflict` (a controller that lost its lease changes nothing).
   */
  putDesiredPool(pool: Omit<DesiredPool, 'generation'>, expectGeneration?: number, fence?: Fence): Promise<DesiredPool>;
  /** Stops managing a pool (its targets stay in the load balancer as they are); false when it was not managed. */
  deleteDesiredPool(lbProvider: string, poolId: string): Promise<boolean>;

  // Protection groups (HA), their replicas, and the leases that say which controller acts for a group.
  /** False when a group of that name exists (nothing is written). */
  insertProtectionGroup(group: Omit<ProtectionGroupRecord, 'generation'>): Promise<boolean>;
  getProtectionGroup(id: string): Promise<ProtectionGroupRecord | undefined>;
  /** Every group, by name. */
  listProtectionGroups(): Promise<ProtectionGroupRecord[]>;
  /**
   * Replaces the spec and/or status of a group in one transaction, generation + 1. `not_found` when it is gone;
   * `conflict` when `expectGeneration` is given and differs, or when `fence` is stale.
   */
  updateProtectionGroup(
    id: string,
    change: { spec?: Record<string, unknown>; status?: Record<string, unknown>; updatedAt: string },
    opts?: { expectGeneration?: number; fence?: Fence },
  ): Promise<ProtectionGroupRecord>;
  /** Removes a group with its replica records (not the images in the clouds) and lease. */
  deleteProtectionGroup(id: string): Promise<boolean>;
  /** Records a replica (fenced when `fence` is given). */
  insertReplica(replica: ReplicaRecord, fence?: Fence): Promise<void>;
  /** A group's replicas, newest data first; of one site or member when given. */
  listReplicas(groupId: string, filter?: { site?: string; member?: string }): Promise<ReplicaRecord[]>;
  /** Removes a replica's record (fenced when `fence` is given); the image in the cloud is the caller's to delete. */
  deleteReplica(id: string, fence?: Fence): Promise<boolean>;
  /**
   * Takes or renews the lease `name` for `holder` for `ttlMs` from `nowMs`: granted when it is free, expired, or
   * already the holder's (a renewal keeps the token; a takeover grows it). Undefined when another holds it.
   */
  acquireLease(name: string, holder: string, ttlMs: number, nowMs: number): Promise<Lease | undefined>;
  getLease(name: string): Promise<Lease | undefined>;
  /** Ends the holder's lease early (it expires now; the token stays, so the next taker's grows). */
  releaseLease(name: string, holder: string): Promise<void>;
}
