/**
 * Protection groups for every front: create (checked, members resolved, the pool's desired targets written), read
 * with replica ages, change what may change, stop protecting, and the moves, which the HA controller runs.
 */
import { randomBytes } from 'node:crypto';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { SkygateError, conflict, invalid } from '../core/errors.js';
import type { Operation } from '../core/model.js';
import type { CallerContext } from '../core/operations/engine.js';
import type { DesiredTarget, ReplicaRecord, Store } from '../core/store-port.js';
import type { MemberLookups } from './group-lookups.js';
import { groupOf, readGroup } from './group-records.js';
import type { GroupHealth, HaActions } from './ha-actions.js';
import type { LbReconciler } from './lb-reconciler.js';
import type {
  GroupMember,
  ProtectionGroup,
  ProtectionGroupSpec,
  ProtectionGroupStatus,
  SiteReplicas,
  SiteStatus,
} from './protection-group.js';
import { MUTABLE_FIELDS, checkProtectionGroup, orderOf } from './protection-group-spec.js';

export type GroupServiceStore = Pick<
  Store,
  | 'insertProtectionGroup'
  | 'getProtectionGroup'
  | 'listProtectionGroups'
  | 'updateProtectionGroup'
  | 'deleteProtectionGroup'
  | 'listReplicas'
  | 'getDesiredPool'
>;

export interface ProtectionGroupServiceDeps {
  store: GroupServiceStore;
  lookups: MemberLookups;
  reconciler: Pick<LbReconciler, 'setDesired' | 'forget'>;
  /** The controller's moves (failover, switchover, replicate). */
  actions: HaActions;
  events: { emit(type: string, subject: string | undefined, data: Record<string, unknown>): Promise<unknown> };
  /** The clock replica ages are measured with (tests pin it). */
  now?: () => number;
}

export interface GroupPage {
  items: ProtectionGroup[];
  nextCursor?: string;
}

/** A change of spec: any of the mutable fields; `orderTag: null` removes the order. */
export type GroupPatch = Partial<Omit<ProtectionGroupSpec, 'orderTag'>> & { orderTag?: string | null };

/** Moves under way: the sites must not change under the controller. */
const MOVING: ReadonlySet<string> = new Set(['failing-over', 'switching-over']);
const COLLECTION = 'protection-groups';

export class ProtectionGroupService {
  private readonly now: () => number;

  constructor(private readonly deps: ProtectionGroupServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Checks the spec, resolves its members at the primary and stores the group; then the group's pool is made to hold
   * exactly the primary's instances (the pool belongs to the group: targets it held before are removed).
   */
  async create(raw: unknown, caller: CallerContext): Promise<ProtectionGroup> {
    const { spec, instances } = await checkProtectionGroup(raw, this.deps.lookups);
    const others = await this.deps.store.listProtectionGroups();
    if (others.some((g) => g.name === spec.name)) throw conflict(`a protection group named '${spec.name}' exists`, 'name');
    const owner = others.map(groupOf).find((g) => samePool(g.spec, spec));
    if (owner !== undefined) {
      throw conflict(
        `pool '${spec.traffic.poolId}' of '${spec.traffic.lbProvider}' carries protection group '${owner.spec.name}' (${owner.id}); a pool serves one group`,
        'traffic.poolId',
      );
    }
    const ids = new Set(instances.map((i) => i.id));
    for (const g of others.map(groupOf)) {
      const taken = Object.values(g.status.sites).flatMap((site) => Object.values(site.instances));
      const shared = taken.find((id) => ids.has(id));
      if (shared !== undefined) {
        throw conflict(`instance '${shared}' is protected by group '${g.spec.name}' (${g.id}) already`, 'instances');
      }
    }
    const members: GroupMember[] = [];
    for (const i of instances) {
      const flavor = await this.deps.lookups.flavor(i.flavorId);
      members.push({
        key: i.id,
        ...(i.name !== '' && { name: i.name }),
        vcpus: flavor.vcpus,
        memoryMiB: flavor.memoryMiB,
        order: orderOf(i, spec.orderTag),
        tags: { ...i.tags },
      });
    }
    const sites: Record<string, SiteStatus> = {
      [spec.primary]: { role: 'primary', health: 'unknown', instances: Object.fromEntries(instances.map((i) => [i.id, i.id])) },
    };
    for (const s of spec.standbys) sites[s] = standbySite();
    const status: ProtectionGroupStatus = { primary: spec.primary, phase: 'protecting', members, sites, failovers: 0 };
    const id = `pg-${randomBytes(8).toString('hex')}`;
    const at = new Date(this.now()).toISOString();
    const record = { id, name: spec.name, spec: asJson(spec), status: asJson(status), createdAt: at, updatedAt: at };
    if (!(await this.deps.store.insertProtectionGroup(record))) {
      throw conflict(`a protection group named '${spec.name}' exists`, 'name');
    }
    const targets: DesiredTarget[] = instances.map((i) => ({
      address: i.privateIp as string,
      port: spec.traffic.port,
      state: 'active',
    }));
    try {
      // Conditional on the pool's state as read now: of two groups made at once for one pool, only one gets it.
      const managed = await this.deps.store.getDesiredPool(spec.traffic.lbProvider, spec.traffic.poolId);
      await this.deps.reconciler.setDesired(spec.traffic.lbProvider, spec.traffic.poolId, targets, {
        expectGeneration: managed?.generation ?? 0,
      });
    } catch (e) {
      // Nothing half-made: a group whose pool could not be recorded is not kept.
      await this.deps.store.deleteProtectionGroup(id);
      throw e;
    }
    await this.deps.events.emit('ha.group.created', id, {
      name: spec.name,
      primary: spec.primary,
      standbys: spec.standbys,
      members: members.map((m) => m.key),
      by: caller.principal,
    });
    return this.get(id);
  }

  async get(id: string): Promise<ProtectionGroup> {
    return this.withReplicas(await readGroup(this.deps.store, id));
  }

  /** Groups by name, a page at a time. */
  async list(q: { limit: number; cursor?: string }): Promise<GroupPage> {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, COLLECTION, {});
    // Sorted here rather than trusted to the database's collation, so a cursor means the same on both dialects.
    const all = (await this.deps.store.listProtectionGroups())
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .filter((g) => after === undefined || g.name > after);
    const page = all.slice(0, q.limit);
    const items = await Promise.all(page.map((r) => this.withReplicas(groupOf(r))));
    const last = page.at(-1);
    return {
      items,
      ...(all.length > page.length && last !== undefined && { nextCursor: encodeCursor(COLLECTION, {}, last.name) }),
    };
  }

  /**
   * Changes the mutable fields (standbys, standbyMode, replication, healthCheck, failoverMode, orderTag); nested
   * objects are merged onto what is stored. The result is checked as a whole, and written only on the generation it
   * was read at (read again when the controller wrote in between). Sites are added and removed with the standbys.
   */
  async update(id: string, patch: unknown, caller: CallerContext): Promise<ProtectionGroup> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('body', 'must be an object');
    const fixed = Object.keys(patch).filter((k) => !MUTABLE_FIELDS.has(k));
    if (fixed.length > 0) {
      throw new SkygateError('invalid_input', `${fixed.join(', ')}: cannot be changed; make a new group instead`, {
        field: fixed[0],
        errors: fixed.map((field) => ({ field, reason: 'cannot be changed; make a new group instead' })),
      });
    }
    for (let attempt = 0; ; attempt++) {
      const group = await readGroup(this.deps.store, id);
      const { spec } = await checkProtectionGroup(merge(group.spec, patch as GroupPatch), this.deps.lookups, group.spec);
      const status = resite(group.status, spec, 'standbys' in patch);
      try {
        await this.deps.store.updateProtectionGroup(
          id,
          { spec: asJson(spec), status: asJson(status), updatedAt: new Date(this.now()).toISOString() },
          { expectGeneration: group.generation },
        );
      } catch (e) {
        // Another writer (the controller recording health) came first: apply the patch to what it wrote.
        if (attempt < 20 && e instanceof SkygateError && e.code === 'conflict' && /generation/.test(e.message)) continue;
        throw e;
      }
      await this.deps.events.emit('ha.group.updated', id, {
        name: spec.name,
        changed: Object.keys(patch),
        by: caller.principal,
      });
      return this.get(id);
    }
  }

  /**
   * Stops protecting: the pool is no longer managed (its targets stay as they are) and the group and its replica
   * records are removed. The replica images stay in the clouds.
   */
  async delete(id: string, caller: CallerContext): Promise<void> {
    const group = await readGroup(this.deps.store, id);
    if (MOVING.has(group.status.phase)) {
      throw conflict(`protection group ${id} is ${group.status.phase}; delete it once the move has ended`);
    }
    await this.deps.reconciler.forget(group.spec.traffic.lbProvider, group.spec.traffic.poolId);
    await this.deps.store.deleteProtectionGroup(id);
    await this.deps.events.emit('ha.group.deleted', id, { name: group.spec.name, by: caller.principal });
  }

  /** A group's replicas, newest data first; of one site or member when given. */
  async listReplicas(id: string, filter: { site?: string; member?: string } = {}): Promise<ReplicaRecord[]> {
    await readGroup(this.deps.store, id);
    return this.deps.store.listReplicas(id, filter);
  }

  async failover(id: string, req: { to?: string; reason?: string }, caller: CallerContext): Promise<Operation> {
    const group = await readGroup(this.deps.store, id);
    if (req.to !== undefined) checkTarget(group, req.to);
    return this.deps.actions.failover(id, req, caller);
  }

  async switchover(id: string, req: { to: string }, caller: CallerContext): Promise<Operation> {
    checkTarget(await readGroup(this.deps.store, id), req.to);
    return this.deps.actions.switchover(id, req, caller);
  }

  health(id: string): Promise<GroupHealth> {
    return this.deps.actions.health(id);
  }

  async replicate(id: string, caller: CallerContext): Promise<Operation> {
    await readGroup(this.deps.store, id);
    return this.deps.actions.replicate(id, caller);
  }

  /** Adds, per site other than the current primary, its members' newest replicas and their age against the RPO. */
  private async withReplicas(group: ProtectionGroup): Promise<ProtectionGroup> {
    const all = await this.deps.store.listReplicas(group.id);
    const now = this.now();
    const replicas: Record<string, SiteReplicas> = {};
    for (const site of Object.keys(group.status.sites)) {
      if (site === group.status.primary) continue;
      const newest: SiteReplicas['newest'] = {};
      // Newest data first: the first one seen per member is its newest.
      for (const r of all) {
        if (r.site === site && newest[r.member] === undefined) {
          newest[r.member] = { replicaId: r.id, imageId: r.imageId, dataAt: r.dataAt };
        }
      }
      const times = group.status.members.map((m) => newest[m.key]?.dataAt);
      const complete = times.length > 0 && times.every((t) => t !== undefined);
      const oldest = complete ? Math.min(...times.map((t) => Date.parse(t as string))) : undefined;
      const age = oldest === undefined ? undefined : Math.max(0, Math.round((now - oldest) / 100) / 10);
      replicas[site] = {
        newest,
        ...(age !== undefined && { replicaAgeSeconds: age }),
        rpoMet: age !== undefined && age <= group.spec.replication.rpoSeconds,
      };
    }
    return { ...group, replicas };
  }
}

const standbySite = (): SiteStatus => ({ role: 'standby', health: 'unknown', instances: {} });

const asJson = (v: object): Record<string, unknown> => v as unknown as Record<string, unknown>;

function samePool(a: ProtectionGroupSpec, b: ProtectionGroupSpec): boolean {
  return a.traffic.lbProvider === b.traffic.lbProvider && a.traffic.poolId === b.traffic.poolId;
}

/** The stored spec with the patch laid over it; replication and healthCheck are merged field by field. */
function merge(spec: ProtectionGroupSpec, patch: GroupPatch): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec, ...patch };
  if (isObject(patch.replication)) out.replication = { ...spec.replication, ...patch.replication };
  if (isObject(patch.healthCheck)) {
    const base: Record<string, unknown> = { ...spec.healthCheck };
    // A check turned into TCP drops the HTTP-only fields it had, rather than being refused for them.
    if (patch.healthCheck.protocol === 'tcp') {
      delete base.path;
      delete base.expectStatus;
    }
    out.healthCheck = { ...base, ...patch.healthCheck };
  }
  if (patch.orderTag === null) delete out.orderTag;
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The status with a site per standby: new standbys get one, dropped ones lose theirs. The current primary and the
 * first primary always keep theirs; dropping the current primary is refused (switch over first).
 */
function resite(status: ProtectionGroupStatus, spec: ProtectionGroupSpec, standbysChanged: boolean): ProtectionGroupStatus {
  if (!standbysChanged) return status;
  if (MOVING.has(status.phase)) throw conflict(`the group is ${status.phase}; change its standbys once the move has ended`);
  const wanted = new Set([spec.primary, ...spec.standbys]);
  if (!wanted.has(status.primary)) {
    throw invalid('standbys', `'${status.primary}' is the current primary: switch over to another site before dropping it`);
  }
  const sites: Record<string, SiteStatus> = {};
  for (const site of wanted) sites[site] = status.sites[site] ?? standbySite();
  return { ...status, sites };
}

/** A move's destination: one of the group's sites, and not the one already serving. */
function checkTarget(group: ProtectionGroup, to: string): void {
  if (!(to in group.status.sites)) {
    throw invalid('to', `'${to}' is not a site of this group (its sites: ${Object.keys(group.status.sites).join(', ')})`);
  }
  if (to === group.status.primary) throw invalid('to', `'${to}' is already the primary`);
}
