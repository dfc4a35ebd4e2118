/**
 * The operations API every front calls: validates against what providers actually hold, refuses
 * illegal actions, and hands the work to the operations engine. Changes made at once (tags, renames,
 * instance attributes) are audited here, with their caller, whichever front asked.
 */
import { SkygateError, invalid, toSkygateError } from '../errors.js';
import { parseId, parseRefIn } from '../ids.js';
import { assertActionAllowed, transitionOf } from '../lifecycle.js';
import { checkDeviceName } from '../device-policy.js';
import { checkName } from '../name-policy.js';
import type { EventBus } from '../events.js';
import { applyTagChange, checkTags, type TagChange, tagDiff } from '../tag-policy.js';
import type { Instance, Operation, ResourceOf, Tags } from '../model.js';
import type { CallerContext, OperationEngine } from '../operations/engine.js';
import type { CloudAdapter, CreateVolumeSpec, RenamableKind, TaggableKind } from '../ports.js';
import type { ProviderRegistry } from '../registry.js';
import { getNative, listAllNative } from '../resources.js';
import { DEFAULT_INSTANCE_ATTRIBUTES, type InstanceAttributeService, type ModifiableAttributes } from './instance-attributes.js';
import type { InventoryService } from './inventory.js';
import type { InstanceAttributes } from '../store-port.js';

export type { CallerContext } from '../operations/engine.js';

/** What a caller asks for: the port's create spec, at a named provider, without the engine's client token. */
export type CreateVolumeInput = Omit<CreateVolumeSpec, 'clientToken'> & { provider: string };

export type InstanceAction = 'start' | 'stop' | 'reboot';

export class ResourceService {
  /** Tag changes (and renames) of one resource run one after another, so two concurrent changes both land. */
  private readonly tagQueues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly inventory: InventoryService,
    private readonly engine: OperationEngine,
    /** Where changes made at once are audited (operations audit themselves). */
    private readonly audit: Pick<EventBus, 'emit'>,
    private readonly attributes?: InstanceAttributeService,
  ) {}

  async instanceAction(id: string, action: InstanceAction | 'suspend' | 'delete', caller: CallerContext): Promise<Operation> {
    const instance = await this.inventory.get('instance', id);
    if (action === 'suspend') this.assertCanSuspend(instance);
    assertActionAllowed('instance', action, instance, 'path.id');
    if (action === 'delete') await this.attributes?.assertTerminationAllowed(instance.id);
    const operation = await this.submit(`instance.${action}`, instance.provider, id, {}, { nativeId: instance.nativeId }, caller);
    await this.showAccepted('instance', action, instance);
    return operation;
  }

  /** A provider that cannot suspend is refused before its state matters, with the adapter's reason when it gives one. */
  private assertCanSuspend(instance: Instance): void {
    const adapter = this.registry.cloud(instance.provider, 'path.id');
    if (adapter.capabilities().suspend && adapter.suspendInstance) return;
    const why = adapter.capabilityNotes?.suspend;
    throw new SkygateError('unsupported', `provider '${instance.provider}' cannot suspend instances${why ? `: ${why}` : ''}`, {
      field: 'path.id',
      provider: instance.provider,
    });
  }

  /**
   * The same action on several instances, all or nothing: every instance is read and checked before
   * any operation starts (as EC2 refuses a whole StopInstances when one instance cannot stop).
   * Answers each instance as it was, with its operation.
   */
  async instanceActions(
    ids: string[],
    action: InstanceAction | 'delete',
    caller: CallerContext,
  ): Promise<Array<{ instance: Instance; operation: Operation }>> {
    const instances = await Promise.all(ids.map((id) => this.inventory.get('instance', id)));
    for (const instance of instances) {
      assertActionAllowed('instance', action, instance, 'path.id');
      if (action === 'delete') await this.attributes?.assertTerminationAllowed(instance.id);
    }
    const out: Array<{ instance: Instance; operation: Operation }> = [];
    for (const instance of instances) {
      const operation = await this.submit(
        `instance.${action}`,
        instance.provider,
        instance.id,
        {},
        { nativeId: instance.nativeId },
        caller,
      );
      await this.showAccepted('instance', action, instance);
      out.push({ instance, operation });
    }
    return out;
  }

  /** The attributes of instance `id`, defaults filled in for those never set; not_found when there is no such instance. */
  async instanceAttributes(id: string): Promise<InstanceAttributes> {
    if (!this.attributes) throw new SkygateError('unsupported', 'this gateway keeps no instance attributes');
    const instance: Instance = await this.inventory.get('instance', id);
    return { ...DEFAULT_INSTANCE_ATTRIBUTES, ...(await this.attributes.get(instance.id)) };
  }

  /**
   * Changes instance attributes (termination protection, user data...); answers them all as now set. The audit
   * event names the attributes that changed, never their values: user data often holds credentials.
   */
  async modifyInstanceAttributes(id: string, patch: ModifiableAttributes, caller: CallerContext): Promise<InstanceAttributes> {
    if (!this.attributes) throw new SkygateError('unsupported', 'this gateway keeps no instance attributes');
    const instance: Instance = await this.inventory.get('instance', id);
    const { attributes, changed } = await this.attributes.modify(instance, patch);
    if (changed.length > 0) {
      await this.audit.emit('instance.attributes-changed', instance.id, { changed, by: caller.principal });
    }
    return attributes;
  }

  /**
   * Sets and removes tags of one resource at its provider, at once (tags are not an operation), and
   * answers the resource as it now is. `field` names the input that carried the id, for the errors.
   */
  changeTags<K extends TaggableKind>(
    kind: K,
    id: string,
    change: TagChange,
    caller: CallerContext,
    field = 'resourceId',
  ): Promise<ResourceOf<K>> {
    return this.queued(id, () => this.applyTags(kind, id, change, caller, field));
  }

  /** Runs `change` of resource `id` after the ones already queued for it. */
  private queued<T>(id: string, change: () => Promise<T>): Promise<T> {
    const previous = this.tagQueues.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(change);
    this.tagQueues.set(id, run);
    void run
      .finally(() => {
        if (this.tagQueues.get(id) === run) this.tagQueues.delete(id);
      })
      .catch(() => undefined);
    return run;
  }

  private async applyTags<K extends TaggableKind>(
    kind: K,
    id: string,
    change: TagChange,
    caller: CallerContext,
    field: string,
  ): Promise<ResourceOf<K>> {
    const resource = await this.inventory.get(kind, id, field);
    const adapter = this.registry.cloud(resource.provider, field);
    await this.setTags(kind, resource, adapter, change, caller);
    return this.inventory.record(kind, resource.provider, await getNative(adapter, kind, resource.nativeId));
  }

  /**
   * Applies `change` to the tags `resource` has now, checked whole before the provider is called, and audits what
   * changed (`resource.tags-changed`); a change that leaves the tags as they were is no event.
   */
  private async setTags(
    kind: TaggableKind,
    resource: { id: string; provider: string; nativeId: string; tags?: Tags },
    adapter: CloudAdapter,
    change: TagChange,
    caller: CallerContext,
  ): Promise<void> {
    const before = resource.tags ?? {};
    const tags = applyTagChange(before, change);
    checkTags(tags, 'tags');
    if (!adapter.setTags) throw new SkygateError('unsupported', `provider '${resource.provider}' cannot change tags of ${kind}s`);
    await adapter.setTags(kind, resource.nativeId, tags);
    const { set, removed } = tagDiff(before, tags);
    if (Object.keys(set).length > 0 || removed.length > 0) {
      await this.audit.emit('resource.tags-changed', resource.id, { kind, set, removed, by: caller.principal });
    }
  }

  /**
   * Renames an instance or a volume and/or changes its tags (an OCCI PUT or partial update), at once (providers do it
   * without an operation), in its tag queue: on EC2 the name is a tag. What can be refused is refused before anything
   * changes: the name and the new tags are checked, a provider without renames is `unsupported` before the tags
   * move, and the tags (which a provider may refuse for a kind: nova keeps metadata on servers only) change before
   * the name. `nameField` names the input that carried the name.
   * Each change is its own audit event: `resource.tags-changed`, then `resource.renamed`.
   */
  update<K extends RenamableKind>(
    kind: K,
    id: string,
    change: { name?: string; tags?: TagChange },
    caller: CallerContext,
    nameField = 'body.name',
  ): Promise<ResourceOf<K>> {
    if (change.name !== undefined) checkName(change.name, nameField);
    return this.queued(id, async () => {
      const resource = await this.inventory.get(kind, id, 'path.id');
      const adapter = this.registry.cloud(resource.provider, 'path.id');
      const name = change.name !== (resource as { name: string }).name ? change.name : undefined;
      if (name !== undefined && !adapter.rename) {
        throw new SkygateError('unsupported', `provider '${resource.provider}' cannot rename ${kind}s`, {
          field: nameField,
          provider: resource.provider,
        });
      }
      if (change.tags !== undefined) await this.setTags(kind, resource, adapter, change.tags, caller);
      if (name !== undefined && adapter.rename) {
        await adapter.rename(kind, resource.nativeId, name);
        const from = (resource as { name: string }).name;
        await this.audit.emit('resource.renamed', resource.id, { kind, from, to: name, by: caller.principal });
      }
      return this.inventory.record(kind, resource.provider, await getNative(adapter, kind, resource.nativeId));
    });
  }

  /**
   * Removes each tag of `keys` from every resource of `kinds` that carries it (a fresh listing, then one tag change
   * per resource, in its queue) and answers how many changes were made. Terminated instances keep theirs until they
   * go: a provider may refuse to tag what it has let go. Stops at the first refusal; what went before it stays gone.
   */
  async removeTagsEverywhere(keys: readonly string[], kinds: readonly TaggableKind[], caller: CallerContext): Promise<number> {
    let changed = 0;
    for (const key of keys) {
      for (const kind of kinds) {
        const carriers = await this.inventory.list(kind, {
          limit: 100_000,
          tags: [{ key }],
          fresh: true,
          where: (r) => !(kind === 'instance' && (r as Instance).state === 'terminated'),
        });
        for (const r of carriers.items) {
          await this.changeTags(kind, r.id, { remove: [{ key }] }, caller, 'path.id');
          changed++;
        }
      }
    }
    return changed;
  }

  async snapshotInstance(id: string, input: { name: string; tags?: Tags }, caller: CallerContext): Promise<Operation> {
    checkName(input.name, 'body.name');
    checkTags(input.tags, 'body.tags');
    const instance = await this.inventory.get('instance', id);
    assertActionAllowed('instance', 'snapshot', instance, 'path.id');
    // Image names are unique per provider, as AMI names per EC2 region; read live, since the cache may lag.
    const taken = (await listAllNative(this.registry.cloud(instance.provider), 'image')).find(
      (i) => i.name === input.name && i.state !== 'deleted',
    );
    if (taken) {
      const message = `image name '${input.name}' is already used by image '${instance.provider}:${taken.nativeId}'`;
      throw new SkygateError('conflict', message, { field: 'body.name' });
    }
    return this.submit(
      'instance.snapshot',
      instance.provider,
      undefined,
      { instanceId: id, ...input },
      { sourceId: instance.nativeId },
      caller,
    );
  }

  async deleteImage(id: string, caller: CallerContext): Promise<Operation> {
    const image = await this.inventory.get('image', id);
    return this.submit('image.delete', image.provider, id, {}, { nativeId: image.nativeId }, caller);
  }

  async createVolume(input: CreateVolumeInput, caller: CallerContext): Promise<Operation> {
    checkName(input.name, 'body.name');
    checkTags(input.tags, 'body.tags');
    const adapter = this.registry.cloud(input.provider, 'body.provider');
    const state: Record<string, unknown> = {};
    if (input.snapshotId !== undefined) {
      state.snapshotId = parseRefIn(input.provider, input.snapshotId, 'body.snapshotId');
      await this.existing(
        () => adapter.getSnapshot(String(state.snapshotId)),
        'body.snapshotId',
        `snapshot '${input.snapshotId}'`,
      );
    }
    if (input.zone !== undefined && !(await adapter.zones()).includes(input.zone)) {
      throw invalid('body.zone', `zone '${input.zone}' does not exist at provider '${input.provider}'`);
    }
    return this.submit('volume.create', input.provider, undefined, { ...input }, state, caller);
  }

  async attachVolume(id: string, input: { instanceId: string; device?: string }, caller: CallerContext): Promise<Operation> {
    if (input.device !== undefined) checkDeviceName(input.device, 'body.device');
    const volume = await this.inventory.get('volume', id);
    assertActionAllowed('volume', 'attach', volume, 'path.id');
    const instanceNative = parseRefIn(volume.provider, input.instanceId, 'body.instanceId');
    const instance = await this.inventory
      .get('instance', `${volume.provider}:${instanceNative}`, 'body.instanceId')
      .catch((e) => Promise.reject(this.asInput(e, 'body.instanceId')));
    assertActionAllowed('instance', 'attach', instance, 'body.instanceId');
    if (volume.zone !== instance.zone) {
      throw invalid('body.instanceId', `volume '${id}' is in zone ${volume.zone}, instance '${instance.id}' in ${instance.zone}`);
    }
    const operation = await this.submit(
      'volume.attach',
      volume.provider,
      id,
      { ...input },
      { nativeId: volume.nativeId, instanceId: instanceNative },
      caller,
    );
    await this.showAccepted('volume', 'attach', volume);
    return operation;
  }

  async volumeAction(id: string, action: 'detach' | 'delete', caller: CallerContext): Promise<Operation> {
    const volume = await this.inventory.get('volume', id);
    assertActionAllowed('volume', action, volume, 'path.id');
    const operation = await this.submit(`volume.${action}`, volume.provider, id, {}, { nativeId: volume.nativeId }, caller);
    await this.showAccepted('volume', action, volume);
    return operation;
  }

  async createSnapshot(input: { volumeId: string; name: string; tags?: Tags }, caller: CallerContext): Promise<Operation> {
    checkName(input.name, 'body.name');
    checkTags(input.tags, 'body.tags');
    const ref = parseId(input.volumeId, 'body.volumeId');
    const volume = await this.inventory
      .get('volume', input.volumeId, 'body.volumeId')
      .catch((e) => Promise.reject(this.asInput(e, 'body.volumeId')));
    assertActionAllowed('volume', 'snapshot', volume, 'body.volumeId');
    return this.submit('snapshot.create', ref.provider, undefined, { ...input }, { sourceId: ref.nativeId }, caller);
  }

  async deleteSnapshot(id: string, caller: CallerContext): Promise<Operation> {
    const snapshot = await this.inventory.get('snapshot', id);
    return this.submit('snapshot.delete', snapshot.provider, id, {}, { nativeId: snapshot.nativeId }, caller);
  }

  private async submit(
    kind: string,
    provider: string,
    target: string | undefined,
    input: Record<string, unknown>,
    state: Record<string, unknown>,
    caller: CallerContext,
  ): Promise<Operation> {
    return this.engine.operation({
      kind,
      provider,
      target,
      input: target === undefined ? input : { id: target, ...input },
      state,
      caller,
    });
  }

  /** Read your own writes: the inventory shows an accepted action's transitional state before the answer goes out. */
  private async showAccepted(kind: 'instance' | 'volume', action: string, resource: { id: string; state: string }) {
    const next = transitionOf(kind, action, resource.state);
    if (next !== undefined) await this.inventory.markTransition(kind, resource.id, resource.state, next);
  }

  /** Runs a lookup of a referenced resource; its absence is the caller's bad input, not a 404 of the URL. */
  private async existing<T>(lookup: () => Promise<T>, field: string, what: string): Promise<T> {
    try {
      return await lookup();
    } catch (e) {
      throw this.asInput(e, field, `${what} does not exist`);
    }
  }

  private asInput(e: unknown, field: string, reason?: string): SkygateError {
    const err = toSkygateError(e);
    if (err.code !== 'not_found') return err;
    return invalid(field, reason ?? err.message);
  }
}
