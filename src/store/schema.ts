/** Kysely table types of the store's database, shared by the SQLite and PostgreSQL dialects. */
import type { Generated } from 'kysely';

export interface InventoryTable {
  kind: string;
  id: string;
  provider: string;
  name: string;
  /** Null for kinds without a lifecycle (flavors). */
  state: string | null;
  /** When this row was last written; a later refresh that found it unchanged is in inventory_refreshes. */
  observed_at: string;
  /** The resource as JSON, without `observedAt` (kept in the columns) and `freshness` (a view-time mark). */
  data: string;
}

/** The last replaceInventory of each provider and kind: every row it kept was seen then. */
export interface InventoryRefreshTable {
  provider: string;
  kind: string;
  observed_at: string;
}

export interface InventoryTagTable {
  kind: string;
  id: string;
  key: string;
  value: string;
}

export interface SyncStateTable {
  provider: string;
  kind: string;
  observed_at: string | null;
  attempted_at: string;
  /** 0 or 1: an integer reads back the same from both dialects. */
  ok: number;
  error: string | null;
}

export interface OperationTable {
  id: string;
  kind: string;
  status: string;
  provider: string | null;
  target: string | null;
  idempotency_key: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  /** JSON of the remaining fields: progress, input, steps, state, result, error, attempts. */
  data: string;
}

export interface IdempotencyTable {
  principal: string;
  key: string;
  request_hash: string;
  operation_id: string;
  created_at: string;
}

export interface EventTable {
  /** pg answers bigserial as a string; the store converts it to a number. */
  seq: Generated<number | string>;
  type: string;
  time: string;
  subject: string | null;
  data: string;
}

export interface ApiTokenTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** EC2-style access key pairs; the secret is kept encrypted (AES-256-GCM) because SigV4 verification needs it. */
export interface AccessKeyTable {
  id: string;
  token_id: string;
  name: string;
  role: string;
  /** base64 of iv | auth tag | ciphertext. */
  secret: string;
  created_at: string;
  revoked_at: string | null;
}

/** Another dialect's id for a skygate resource (`i-…` for EC2), kept so the reverse lookup works. */
export interface IdAliasTable {
  namespace: string;
  alias: string;
  kind: string;
  target: string;
}

export interface KeyPairTable {
  provider: string;
  name: string;
  id: string;
  key_type: string;
  fingerprint: string;
  public_key: string;
  /** JSON object of tags. */
  tags: string;
  created_at: string;
}

export interface InstanceAttributeTable {
  instance_id: string;
  /** JSON of the attributes set on the instance; absent ones take their defaults. */
  data: string;
  updated_at: string;
}

/** A load balancer pool skygate manages: the HA module's desired target state, one row per pool. */
export interface LbDesiredPoolTable {
  lb_provider: string;
  pool_id: string;
  /** Grows with every change (compare-and-set for concurrent writers). */
  generation: number;
  updated_at: string;
}

/** One target a managed pool should hold. */
export interface LbDesiredTargetTable {
  lb_provider: string;
  pool_id: string;
  /** `address:port`, the target's id in every LoadBalancerAdapter. */
  target_id: string;
  address: string;
  port: number;
  state: string;
  weight: number | null;
}

/** A protection group (HA): spec and status are JSON documents typed in src/ha. */
export interface ProtectionGroupTable {
  id: string;
  name: string;
  spec: string;
  status: string;
  generation: number;
  created_at: string;
  updated_at: string;
}

/** A replica of a protected member at a site; the keys it is listed by are columns, the rest is JSON. */
export interface HaReplicaTable {
  id: string;
  group_id: string;
  member: string;
  site: string;
  data_at: string;
  data: string;
}

/** A lease: who acts for a protection group until when, and its fencing token. */
export interface HaLeaseTable {
  name: string;
  holder: string;
  token: number;
  expires_at_ms: number | string | bigint;
}

export interface Database {
  inventory: InventoryTable;
  inventory_tags: InventoryTagTable;
  inventory_refreshes: InventoryRefreshTable;
  sync_states: SyncStateTable;
  operations: OperationTable;
  idempotency: IdempotencyTable;
  events: EventTable;
  api_tokens: ApiTokenTable;
  access_keys: AccessKeyTable;
  id_aliases: IdAliasTable;
  key_pairs: KeyPairTable;
  instance_attributes: InstanceAttributeTable;
  lb_desired_pools: LbDesiredPoolTable;
  lb_desired_targets: LbDesiredTargetTable;
  protection_groups: ProtectionGroupTable;
  ha_replicas: HaReplicaTable;
  ha_leases: HaLeaseTable;
}
