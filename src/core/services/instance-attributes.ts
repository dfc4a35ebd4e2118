/**
 * Instance settings the provider APIs do not carry (EC2's instance attributes): kept by skygate, given
 * defaults when never set, and enforced here (termination protection stops a terminate from any front).
 */
import { isDeepStrictEqual } from 'node:util';
import { SkygateError, conflict, invalid } from '../errors.js';
import type { Instance } from '../model.js';
import type { InstanceAttributes, Store } from '../store-port.js';

/** What an instance has when nothing was set: EC2's defaults. */
export const DEFAULT_INSTANCE_ATTRIBUTES = {
  disableApiTermination: false,
  instanceInitiatedShutdownBehavior: 'stop',
  sourceDestCheck: true,
  ebsOptimized: false,
} as const satisfies InstanceAttributes;

/** EC2 takes user data up to 16 KiB before base64. */
const MAX_USER_DATA_BYTES = 16 * 1024;
/** How long a read is trusted without asking the store again (another replica's change lags by this). */
export const INSTANCE_ATTRIBUTES_CACHE_MS = 5_000;
const CACHE_MS = INSTANCE_ATTRIBUTES_CACHE_MS;

export type ModifiableAttributes = Pick<
  InstanceAttributes,
  | 'disableApiTermination'
  | 'instanceInitiatedShutdownBehavior'
  | 'sourceDestCheck'
  | 'ebsOptimized'
  | 'userData'
  | 'securityGroups'
>;

/** Attributes that, as on EC2, only change while the instance is stopped. */
const STOPPED_ONLY: ReadonlyArray<keyof ModifiableAttributes> = ['userData', 'ebsOptimized'];

/** Refuses attribute values no instance can have; `prefix` places the fields in the caller's request (`body.`). */
export function checkAttributes(patch: InstanceAttributes, prefix = ''): void {
  for (const key of ['disableApiTermination', 'sourceDestCheck', 'ebsOptimized'] as const) {
    if (patch[key] !== undefined && typeof patch[key] !== 'boolean') throw invalid(`${prefix}${key}`, 'must be true or false');
  }
  const behaviour = patch.instanceInitiatedShutdownBehavior;
  if (behaviour !== undefined && behaviour !== 'stop' && behaviour !== 'terminate') {
    throw invalid(`${prefix}instanceInitiatedShutdownBehavior`, `must be 'stop' or 'terminate', not '${String(behaviour)}'`);
  }
  if (patch.userData !== undefined) {
    if (typeof patch.userData !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(patch.userData)) {
      throw invalid(`${prefix}userData`, 'must be base64');
    }
    if (Buffer.from(patch.userData, 'base64').length > MAX_USER_DATA_BYTES) {
      throw invalid(`${prefix}userData`, `must be at most ${MAX_USER_DATA_BYTES} bytes before base64 encoding`);
    }
  }
  if (patch.securityGroups !== undefined && (!Array.isArray(patch.securityGroups) || patch.securityGroups.length === 0)) {
    throw invalid(`${prefix}securityGroups`, 'must name at least one security group');
  }
}

export class InstanceAttributeService {
  private readonly cache = new Map<string, { value: InstanceAttributes; until: number }>();
  /** Updates of one instance run one after another, so two concurrent changes both land. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private gen = 0;

  /**
   * Changes whenever this gateway changes an instance's attributes: with INSTANCE_ATTRIBUTES_CACHE_MS (how late
   * another replica's change may be seen), a key for what is rendered from them.
   */
  get generation(): number {
    return this.gen;
  }

  constructor(private readonly store: Store) {}

  /** The attributes set on each instance (absent ones are left out; see DEFAULT_INSTANCE_ATTRIBUTES). */
  async getMany(instanceIds: string[]): Promise<Map<string, InstanceAttributes>> {
    const now = Date.now();
    const out = new Map<string, InstanceAttributes>();
    const missing: string[] = [];
    for (const id of instanceIds) {
      const hit = this.cache.get(id);
      if (hit && hit.until > now) out.set(id, hit.value);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const rows = new Map((await this.store.getInstanceAttributes(missing)).map((r) => [r.instanceId, r.attributes]));
      for (const id of missing) {
        const value = rows.get(id) ?? {};
        this.cache.set(id, { value, until: now + CACHE_MS });
        out.set(id, value);
      }
    }
    return out;
  }

  async get(instanceId: string): Promise<InstanceAttributes> {
    return (await this.getMany([instanceId])).get(instanceId) ?? {};
  }

  /** Records what a launch said about its instance (key, user data, groups, protection); validated like a change. */
  recordLaunch(instanceId: string, attributes: InstanceAttributes): Promise<InstanceAttributes> {
    checkAttributes(attributes);
    return this.write(instanceId, (current) => ({ ...attributes, ...current }));
  }

  /**
   * Changes attributes of `instance`, refusing those that need it stopped while it is not. Answers them all as now
   * set, and the names of those whose value differs from before (defaults counted), for the audit event.
   */
  async modify(
    instance: Instance,
    patch: ModifiableAttributes,
  ): Promise<{ attributes: InstanceAttributes; changed: Array<keyof ModifiableAttributes> }> {
    checkAttributes(patch);
    for (const key of STOPPED_ONLY) {
      if (patch[key] !== undefined && instance.state !== 'stopped') {
        throw conflict(`cannot change ${key} of instance '${instance.id}' while it is ${instance.state} (stop it first)`, key);
      }
    }
    let changed: Array<keyof ModifiableAttributes> = [];
    const attributes = await this.write(instance.id, (current) => {
      const before: InstanceAttributes = { ...DEFAULT_INSTANCE_ATTRIBUTES, ...current };
      changed = (Object.keys(patch) as Array<keyof ModifiableAttributes>).filter(
        (k) => patch[k] !== undefined && !isDeepStrictEqual(before[k], patch[k]),
      );
      return { ...current, ...patch };
    });
    return { attributes, changed };
  }

  /** Refuses a terminate while termination protection is on; reads the store, never a cached copy. */
  async assertTerminationAllowed(instanceId: string): Promise<void> {
    const [row] = await this.store.getInstanceAttributes([instanceId]);
    if (row?.attributes.disableApiTermination === true) {
      throw new SkygateError(
        'conflict',
        `instance '${instanceId}' has termination protection on (disableApiTermination); turn it off before terminating`,
        { field: 'disableApiTermination' },
      );
    }
  }

  private write(instanceId: string, change: (current: InstanceAttributes) => InstanceAttributes): Promise<InstanceAttributes> {
    const previous = this.queues.get(instanceId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const [row] = await this.store.getInstanceAttributes([instanceId]);
        const next = change(row?.attributes ?? {});
        await this.store.putInstanceAttributes({ instanceId, attributes: next, updatedAt: new Date().toISOString() });
        this.cache.set(instanceId, { value: next, until: Date.now() + CACHE_MS });
        this.gen++;
        return next;
      });
    this.queues.set(instanceId, run);
    void run
      .finally(() => {
        if (this.queues.get(instanceId) === run) this.queues.delete(instanceId);
      })
      .catch(() => undefined);
    return run;
  }
}
