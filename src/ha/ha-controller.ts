/**
 * The HA controller: for every protection group whose lease it holds, it watches each site's instances with the
 * group's health check, records what it sees, and decides. The primary failing its checks (fall rounds in a row) in
 * automatic mode starts a failover to the first standby that can take over (warm: its standbys pass their checks;
 * cold: its cloud answers and it holds a replica of every member). With none, the targets stay as they are and the
 * group says so, until a site recovers. A former primary that is healthy again is re-seeded: its stale instances
 * are terminated and replication makes it a standby again. It also answers the group API's moves (`HaActions`).
 */
import { randomUUID } from 'node:crypto';
import { conflict, invalid, toSkygateError } from '../core/errors.js';
import type { CallerContext } from '../core/index.js';
import { parseId } from '../core/ids.js';
import type { EventBus } from '../core/events.js';
import type { Operation } from '../core/model.js';
import type { OperationEngine } from '../core/operations/engine.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { Store } from '../core/store-port.js';
import { FAILOVER_KIND, type FailoverInput } from './failover-command.js';
import type { GroupLeases } from './group-leases.js';
import { groupOf, leaseOf, readGroup, updateStatus } from './group-records.js';
import type { GroupHealth, HaActions } from './ha-actions.js';
import type { HaConfig } from './ha-config.js';
import { HealthMonitor } from './health-monitor.js';
import type { LbReconciler } from './lb-reconciler.js';
import type { ProtectionGroup } from './protection-group.js';
import type { HealthChange, SiteHealthSnapshot } from './site-health.js';

export interface HaControllerDeps {
  store: Store;
  engine: Pick<OperationEngine, 'submit' | 'get'>;
  registry: Pick<ProviderRegistry, 'cloud' | 'checkHealth' | 'has'>;
  events: Pick<EventBus, 'emit'>;
  reconciler: LbReconciler;
  leases: GroupLeases;
  config: Pick<HaConfig, 'controllerIntervalMs'>;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Submits a replication of the group now (wired to the replication module); absent: refused. */
  replicate?: (groupId: string, caller: CallerContext) => Promise<Operation>;
}

const CONTROLLER: CallerContext = { principal: 'ha-controller' };
/** How long a claimed move may wait for its operation before the claim is released. */
const STALE_CLAIM_MS = 60_000;
/** How long an automatic failover waits after a failed move before it tries again; doubled per failure in a row. */
const RETRY_AFTER_FAILED_MOVE_MS = 5_000;
const MAX_RETRY_AFTER_FAILED_MOVE_MS = 60_000;
const keyOf = (groupId: string, site: string) => `${groupId}\u0000${site}`;

export class HaController implements HaActions {
  private readonly monitor: HealthMonitor;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<unknown>;
  private running = false;
  /** Groups this controller holds the lease of, as last read. */
  private readonly held = new Map<string, ProtectionGroup>();
  /** Private addresses by instance id, read once from the inventory. */
  private readonly addresses = new Map<string, string>();
  /** Groups a withheld failover was already announced for (one event per episode). */
  private readonly withheld = new Set<string>();
  /** Per group, the failed moves in a row, counted by the last failed move seen. */
  private readonly failedMoves = new Map<string, { operationId: string; count: number }>();

  constructor(private readonly deps: HaControllerDeps) {
    this.monitor = new HealthMonitor({
      onChange: (key, change, snapshot) => this.onHealthChange(key, change, snapshot),
      log: deps.log,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      this.pass = this.runPass()
        .catch((e) => this.deps.log.warn({ err: toSkygateError(e).message }, 'ha controller: pass failed'))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, this.deps.config.controllerIntervalMs).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
    await this.monitor.stop();
  }

  /** The groups whose lease this controller held at its last pass (the replication scheduler keeps these fresh). */
  heldGroups(): ProtectionGroup[] {
    return [...this.held.values()];
  }

  /** The health verdicts this controller holds for a group's sites (empty when another controller holds it). */
  siteHealth(groupId: string): Record<string, SiteHealthSnapshot> {
    const out: Record<string, SiteHealthSnapshot> = {};
    const group = this.held.get(groupId);
    for (const site of Object.keys(group?.status.sites ?? {})) {
      const snap = this.monitor.snapshot(keyOf(groupId, site));
      if (snap !== undefined) out[site] = snap;
    }
    return out;
  }

  /** One pass: take or renew each group's lease, keep the watches in step with the status, act on what is due. */
  async runPass(): Promise<void> {
    const records = await this.deps.store.listProtectionGroups();
    const seen = new Set<string>();
    for (const record of records) {
      const group = groupOf(record);
      seen.add(group.id);
      const fence = await this.deps.leases.tryHold(group.id).catch(() => undefined);
      if (fence === undefined) {
        this.unwatchGroup(group.id);
        continue;
      }
      this.held.set(group.id, group);
      this.watchSites(group);
      await this.actOn(group).catch((e) =>
        this.deps.log.warn({ group: group.id, err: toSkygateError(e).message }, 'ha controller: could not act on group'),
      );
    }
    for (const id of [...this.held.keys()]) if (!seen.has(id)) this.unwatchGroup(id);
  }

  private unwatchGroup(groupId: string): void {
    const group = this.held.get(groupId);
    for (const site of Object.keys(group?.status.sites ?? {})) this.monitor.unwatch(keyOf(groupId, site));
    this.held.delete(groupId);
  }

  /** Every site with instances is probed: the primary, warm standbys, a former primary waiting to be re-seeded. */
  private watchSites(group: ProtectionGroup): void {
    for (const [site, status] of Object.entries(group.status.sites)) {
      const key = keyOf(group.id, site);
      if (Object.keys(status.instances).length === 0) {
        this.monitor.unwatch(key);
        continue;
      }
      this.monitor.watch(key, {
        check: group.spec.healthCheck,
        targets: () => this.addressesOf(group.id, site),
      });
    }
  }

  private async addressesOf(groupId: string, site: string): Promise<string[]> {
    const ids = Object.values(this.held.get(groupId)?.status.sites[site]?.instances ?? {});
    const out: string[] = [];
    for (const id of ids) {
      let address = this.addresses.get(id);
      if (address === undefined) {
        const instance = await this.deps.store.getResource('instance', id);
        address = instance?.privateIp;
        if (address !== undefined) this.addresses.set(id, address);
      }
      if (address !== undefined) out.push(address);
    }
    return out;
  }

  private async onHealthChange(key: string, change: HealthChange, snapshot: SiteHealthSnapshot): Promise<void> {
    if (!change.changed) return;
    const [groupId = '', site = ''] = key.split('\u0000');
    if (!this.held.has(groupId)) return;
    const fence = await this.deps.leases.tryHold(groupId);
    if (fence === undefined) return;
    const group = await updateStatus(
      this.deps.store,
      groupId,
      (s) => {
        const status = s.sites[site];
        if (status !== undefined) Object.assign(status, { health: change.state, healthSince: snapshot.since ?? undefined });
        return s;
      },
      fence,
    );
    this.held.set(groupId, group);
    await this.deps.events.emit(`ha.site.${change.state}`, groupId, {
      site,
      from: change.previous,
      detail: snapshot.rounds.at(-1)?.detail,
    });
    if (site === group.status.primary && change.state === 'unhealthy') {
      // Not awaited: the monitor's next round must not wait for a failover.
      void this.actOn(group).catch((e) =>
        this.deps.log.warn({ group: groupId, err: toSkygateError(e).message }, 'ha controller: failover not started'),
      );
    }
  }

  /** What a group needs now: a failover, the end of a withheld one, a re-seed. */
  private async actOn(group: ProtectionGroup): Promise<void> {
    if (group.status.activeOperation !== undefined) {
      await this.releaseStaleClaim(group);
      return;
    }
    const primaryHealth = this.monitor.state(keyOf(group.id, group.status.primary));
    if (primaryHealth === 'unhealthy' && group.spec.failoverMode === 'automatic') {
      if (!this.retryDue(group)) return;
      await this.autoFailover(group);
      return;
    }
    if (group.status.phase === 'no-healthy-site' && primaryHealth === 'healthy') {
      this.withheld.delete(group.id);
      await this.setPhase(group.id, 'protecting', undefined);
      await this.deps.events.emit('ha.primary.recovered', group.id, { site: group.status.primary });
    }
    for (const [site, status] of Object.entries(group.status.sites)) {
      if (status.needsReseed && site !== group.status.primary) await this.reseed(group, site);
    }
  }

  /**
   * After moves that failed in a row, the next automatic try waits 5 s, then 10, 20… up to a minute, so a load
   * balancer or cloud that keeps refusing is not hammered; a move that succeeds starts the count again.
   */
  private retryDue(group: ProtectionGroup): boolean {
    const last = group.status.lastFailover;
    if (last?.outcome !== 'failed') {
      this.failedMoves.delete(group.id);
      return true;
    }
    const seen = this.failedMoves.get(group.id);
    const count = seen?.operationId === last.operationId ? seen.count : (seen?.count ?? 0) + 1;
    this.failedMoves.set(group.id, { operationId: last.operationId, count });
    const wait = Math.min(MAX_RETRY_AFTER_FAILED_MOVE_MS, RETRY_AFTER_FAILED_MOVE_MS * 2 ** (count - 1));
    return !(Date.now() - Date.parse(last.finishedAt ?? '') < wait);
  }

  private async autoFailover(group: ProtectionGroup): Promise<void> {
    const snapshot = this.monitor.snapshot(keyOf(group.id, group.status.primary));
    // Detection starts at the first failing round of the streak that turned the verdict (a round that passed
    // since, not yet `rise` of them, does not end it).
    const rounds = snapshot?.rounds ?? [];
    const turned = snapshot?.transitions.filter((t) => t.to === 'unhealthy').at(-1)?.at;
    let first = rounds.length;
    while (turned !== undefined && first > 0 && rounds[first - 1]!.at > turned) first--;
    while (first > 0 && !rounds[first - 1]!.ok) first--;
    const failingSince = rounds[first]?.at;
    const reason = `${group.status.primary} failed its health check: ${rounds.at(-1)?.detail ?? 'unhealthy'}`;
    const to = await this.pickStandby(group);
    if (to === undefined) {
      if (!this.withheld.has(group.id)) {
        this.withheld.add(group.id);
        const message = `${reason}; no standby can take over (each is down, unseeded, or holds no replica), so traffic stays where it is`;
        await this.setPhase(group.id, 'no-healthy-site', message);
        await this.deps.events.emit('ha.failover.withheld', group.id, { site: group.status.primary, message });
        this.deps.log.warn({ group: group.id }, message);
      }
      return;
    }
    this.withheld.delete(group.id);
    await this.submitMove(group, { to, planned: false, reason, ...(failingSince !== undefined && { failingSince }) }, CONTROLLER);
  }

  /**
   * The first site other than the current primary, in the spec's order (its first primary, then its standbys), that
   * can take traffic now: after a failover, the first primary is a standby like the others.
   */
  private async pickStandby(group: ProtectionGroup, only?: string): Promise<string | undefined> {
    for (const site of only !== undefined ? [only] : [group.spec.primary, ...group.spec.standbys]) {
      const status = group.status.sites[site];
      if (status === undefined || site === group.status.primary || status.needsReseed) continue;
      if (await this.canTakeOver(group, site)) return site;
    }
    return undefined;
  }

  private async canTakeOver(group: ProtectionGroup, site: string): Promise<boolean> {
    const health = await this.deps.registry.checkHealth(site).catch(() => undefined);
    if (health?.status === 'down') return false;
    const status = group.status.sites[site];
    const warmReady =
      group.spec.standbyMode === 'warm' &&
      group.status.members.every((m) => status?.instances[m.key] !== undefined) &&
      this.monitor.state(keyOf(group.id, site)) === 'healthy';
    if (warmReady) return true;
    const replicas = await this.deps.store.listReplicas(group.id, { site });
    return group.status.members.every((m) => replicas.some((r) => r.member === m.key));
  }

  private async setPhase(groupId: string, phase: ProtectionGroup['status']['phase'], message: string | undefined): Promise<void> {
    const fence = await this.deps.leases.hold(groupId);
    const group = await updateStatus(
      this.deps.store,
      groupId,
      (s) => {
        s.phase = phase;
        if (message === undefined) delete s.message;
        else s.message = message;
        return s;
      },
      fence,
    );
    this.held.set(groupId, group);
  }

  /**
   * A former primary that passes its checks again: its instances hold data older than the new primary's, so they are
   * terminated and their targets leave the pool; replication then seeds the site like any standby.
   */
  private async reseed(group: ProtectionGroup, site: string): Promise<void> {
    const status = group.status.sites[site];
    if (status === undefined) return;
    const hasInstances = Object.keys(status.instances).length > 0;
    const back = hasInstances
      ? this.monitor.state(keyOf(group.id, site)) === 'healthy'
      : (await this.deps.registry.checkHealth(site).catch(() => undefined))?.status !== 'down';
    if (!back) return;
    const fence = await this.deps.leases.hold(group.id);
    const stale = Object.values(status.instances);
    const addresses = new Set(await this.addressesOf(group.id, site));
    const { lbProvider, poolId } = group.spec.traffic;
    const pool = await this.deps.store.getDesiredPool(lbProvider, poolId);
    if (pool !== undefined) {
      const keep = pool.targets.filter((t) => !addresses.has(t.address));
      await this.deps.reconciler.setDesired(lbProvider, poolId, keep, { fence });
    }
    const adapter = this.deps.registry.cloud(site);
    for (const id of stale) {
      await adapter
        .deleteInstance(parseId(id, 'instance').nativeId)
        .catch((e) =>
          this.deps.log.warn(
            { group: group.id, instance: id, err: toSkygateError(e).message },
            'ha controller: stale instance not terminated',
          ),
        );
      this.addresses.delete(id);
    }
    this.monitor.unwatch(keyOf(group.id, site));
    const updated = await updateStatus(
      this.deps.store,
      group.id,
      (s) => {
        const st = s.sites[site];
        if (st !== undefined) Object.assign(st, { needsReseed: false, instances: {}, health: 'unknown' });
        return s;
      },
      fence,
    );
    this.held.set(group.id, updated);
    await this.deps.events.emit('ha.site.reseeded', group.id, { site, terminated: stale });
    this.deps.log.info(
      { group: group.id, site, terminated: stale.length },
      'ha controller: former primary re-seeded as a standby',
    );
  }

  private async submitMove(
    group: ProtectionGroup,
    move: { to: string; planned: boolean; reason: string; failingSince?: string },
    caller: CallerContext,
  ): Promise<Operation> {
    // Claimed in the group's record first (a conditional write): of two moves asked at once, in this process or
    // another, one gets the claim and the other is refused before it has an operation.
    const claim = `claim:${new Date().toISOString()}:${randomUUID()}`;
    const fence = await this.deps.leases.hold(group.id);
    await updateStatus(
      this.deps.store,
      group.id,
      (s) => {
        if (s.activeOperation !== undefined) {
          throw conflict(`protection group ${group.spec.name} is already moving (operation ${s.activeOperation})`);
        }
        s.activeOperation = claim;
        return s;
      },
      fence,
    );
    const input: FailoverInput = {
      claim,
      groupId: group.id,
      from: group.status.primary,
      to: move.to,
      planned: move.planned,
      reason: move.reason,
      decidedAt: new Date().toISOString(),
      ...(move.failingSince !== undefined && { failingSince: move.failingSince }),
    };
    const submitted = await this.deps.engine
      .submit({ kind: FAILOVER_KIND, provider: move.to, input: input as unknown as Record<string, unknown>, caller })
      .catch(async (e) => {
        await this.releaseClaim(group.id, claim);
        throw e;
      });
    const { operation } = submitted;
    this.deps.log.info(
      { group: group.id, from: input.from, to: input.to, planned: input.planned, operation: operation.id },
      'ha controller: move started',
    );
    return operation;
  }

  private async releaseClaim(groupId: string, claim: string): Promise<void> {
    const fence = await this.deps.leases.hold(groupId);
    await updateStatus(
      this.deps.store,
      groupId,
      (s) => {
        if (s.activeOperation === claim) delete s.activeOperation;
        return s;
      },
      fence,
    );
  }

  /**
   * A claim whose operation never came (the gateway died between the two writes) would block the group forever;
   * one older than a minute with no operation behind it is released.
   */
  private async releaseStaleClaim(group: ProtectionGroup): Promise<void> {
    const claim = group.status.activeOperation;
    if (claim === undefined) return;
    if (claim.startsWith('claim:')) {
      const at = Date.parse(claim.slice('claim:'.length, claim.lastIndexOf(':')));
      if (Date.now() - at > STALE_CLAIM_MS) await this.releaseClaim(group.id, claim);
      return;
    }
    const op = await this.deps.engine.get(claim);
    if (op === undefined) await this.releaseClaim(group.id, claim);
  }

  // ---- HaActions: the group API's moves ----

  async failover(groupId: string, req: { to?: string; reason?: string }, caller: CallerContext): Promise<Operation> {
    const group = await readGroup(this.deps.store, groupId);
    this.refuseIfMoving(group);
    if (req.to !== undefined) this.checkSite(group, req.to, 'body.to');
    const to = await this.pickStandby(group, req.to);
    if (to === undefined) {
      throw conflict(
        req.to !== undefined
          ? `${req.to} cannot take over now: its cloud is down, it waits to be re-seeded, or it holds no replica of every member`
          : 'no standby can take over now: each is down, waits to be re-seeded, or holds no replica of every member',
      );
    }
    return this.submitMove(group, { to, planned: false, reason: req.reason ?? `requested by ${caller.principal}` }, caller);
  }

  async switchover(groupId: string, req: { to: string }, caller: CallerContext): Promise<Operation> {
    const group = await readGroup(this.deps.store, groupId);
    this.refuseIfMoving(group);
    this.checkSite(group, req.to, 'body.to');
    if ((await this.pickStandby(group, req.to)) === undefined) {
      throw conflict(
        `${req.to} cannot take over now: its cloud is down, it waits to be re-seeded, or it holds no replica of every member`,
      );
    }
    return this.submitMove(group, { to: req.to, planned: true, reason: `switchover requested by ${caller.principal}` }, caller);
  }

  async health(groupId: string): Promise<GroupHealth> {
    await readGroup(this.deps.store, groupId);
    const lease = await this.deps.store.getLease(leaseOf(groupId));
    const live = lease !== undefined && Date.parse(lease.expiresAt) > Date.now();
    return {
      controller: {
        holder: live ? lease.holder : null,
        ...(live && { token: lease.token }),
        heldHere: live && lease.holder === this.deps.leases.holder,
      },
      sites: this.siteHealth(groupId),
    };
  }

  async replicate(groupId: string, caller: CallerContext): Promise<Operation> {
    await readGroup(this.deps.store, groupId);
    if (this.deps.replicate === undefined) throw conflict('replication is not available in this gateway');
    return this.deps.replicate(groupId, caller);
  }

  private refuseIfMoving(group: ProtectionGroup): void {
    if (group.status.activeOperation !== undefined) {
      throw conflict(`protection group ${group.spec.name} is already moving (operation ${group.status.activeOperation})`);
    }
  }

  private checkSite(group: ProtectionGroup, to: string, field: string): void {
    if (group.status.sites[to] === undefined)
      throw invalid(field, `'${to}' is not a site of protection group ${group.spec.name}`);
    if (to === group.status.primary)
      throw invalid(field, `'${to}' is already the primary of protection group ${group.spec.name}`);
  }
}
