/** The simulated cloud: EC2-like instances, images, volumes and snapshots kept in a local sqlite file. */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import {
  SkygateError,
  checkTags,
  conflict,
  invalid,
  notFound,
  toSkygateError,
  type AdapterContext,
  type Capabilities,
  type CloudAdapter,
  type CreateImageSpec,
  type CreateInstanceSpec,
  type CreateNetworkSpec,
  type CreateSnapshotSpec,
  type CreateVolumeSpec,
  type ImageState,
  type InstanceState,
  type NativeFlavor,
  type NativeImage,
  type NativeChanges,
  type NativeInstance,
  type NativeNetwork,
  type NativeOfKind,
  type NativePage,
  type NativeSnapshot,
  type NativeVolume,
  type PageRequest,
  type ProviderHealth,
  type SnapshotState,
  type RenamableKind,
  type TaggableKind,
  type Tags,
  type UploadImageSpec,
  type VolumeState,
} from '../../src/core/index.js';
import { SimDisks, SEED_DISK_BYTES } from './sim-disks.js';
import { SimNetworks } from './sim-networks.js';
import { FaultInjector, TokenBucket, type SimFaults } from './sim-faults.js';
import { mergeFaults, parseSimSettings, type SimQuotas, type SimSettings, type WorkloadImageSeed } from './sim-settings.js';
import {
  effectiveState,
  SimState,
  type ChangePoint,
  type ImageRow,
  type InstanceRow,
  type SnapshotRow,
  type Table,
  type Tables,
  type Transition,
  type VolumeRow,
} from './sim-state.js';
import { WorkloadHost, type WorkloadHostStatus } from './workload/workload-host.js';
import type { ServedInstance } from './workload/workload-protocol.js';

export const SIM_FLAVORS: readonly NativeFlavor[] = [
  { nativeId: 'sim.small', name: 'sim.small', vcpus: 1, memoryMiB: 1024, diskGiB: 10 },
  { nativeId: 'sim.medium', name: 'sim.medium', vcpus: 2, memoryMiB: 4096, diskGiB: 40 },
  { nativeId: 'sim.large', name: 'sim.large', vcpus: 4, memoryMiB: 8192, diskGiB: 80 },
  { nativeId: 'sim.xlarge', name: 'sim.xlarge', vcpus: 8, memoryMiB: 16384, diskGiB: 160 },
];

/** Seeded on first open with stable ids, so configs and docs can name them. */
export const SIM_SEED_IMAGES = [
  { id: 'img-ubuntu-22-04', name: 'ubuntu-22.04', os: 'ubuntu', minDiskGiB: 8 },
  { id: 'img-debian-12', name: 'debian-12', os: 'debian', minDiskGiB: 4 },
  { id: 'img-cirros-0-6', name: 'cirros-0.6', os: 'cirros', minDiskGiB: 1 },
] as const;

/** The image tag that makes instances of the image serve a workload; its value names the application. */
export const WORKLOAD_TAG = 'sim:workload';
/** The applications the sim can run: `kv` is health, whoami and a key-value store on the instance's disk. */
const WORKLOAD_APPS: ReadonlySet<string> = new Set(['kv']);

const MAX_PAGE = 1000;
/** More changes than this in one `listChanges` answer are left to a full listing, which yields between pages. */
const MAX_CHANGES = 2000;
const MAX_VOLUME_GIB = 16384;
const DISK_FORMATS: ReadonlySet<string> = new Set<NativeImage['diskFormat']>(['raw', 'qcow2', 'vmdk', 'vhd', 'ami']);
/** The device names EC2 suggests for data volumes. */
const DEVICES = [...'fghijklmnop'].map((c) => `/dev/sd${c}`);
const ATTACHED: ReadonlySet<string> = new Set(['attaching', 'in-use', 'detaching']);

/** From the effective state, what each action does: start a transition, nothing (absent target), or conflict (no entry). */
const INSTANCE_ACTIONS: Record<'start' | 'stop' | 'reboot' | 'suspend', Partial<Record<string, [string, string] | null>>> = {
  // As EC2: starting a running instance and stopping a stopped one succeed without effect. A start resumes a
  // suspended instance (nova's resume), through pending as EC2 resumes a hibernated one.
  start: { stopped: ['pending', 'running'], suspended: ['pending', 'running'], pending: null, running: null, rebooting: null },
  stop: { running: ['stopping', 'stopped'], stopping: null, stopped: null },
  reboot: { running: ['rebooting', 'running'], rebooting: null },
  // As nova's suspend: only a running instance; repeating it is harmless.
  suspend: { running: ['suspending', 'suspended'], suspending: null, suspended: null },
};

const KIND: Record<Table, string> = { instances: 'instance', images: 'image', volumes: 'volume', snapshots: 'snapshot' };
const TABLE_OF: Record<TaggableKind, Table> = {
  instance: 'instances',
  image: 'images',
  volume: 'volumes',
  snapshot: 'snapshots',
};

export class SimCloudAdapter implements CloudAdapter {
  readonly type = 'sim';
  readonly extensions = {
    getFaults: async (): Promise<SimFaults> => this.faults.get(),
    /** Merges a partial fault set over the current one and persists it; works during an outage, by design. */
    setFaults: async (patch: unknown): Promise<SimFaults> => {
      const faults = mergeFaults(this.faults.get(), patch);
      this.faults.set(faults);
      // An outage takes the provider's workloads off the network too (connections refused); its end brings them back.
      await this.syncWorkloads();
      return faults;
    },
    /** The process that serves this provider's workloads: up, idle (nothing to serve yet) or down, and what it serves. */
    workloadHost: async (): Promise<WorkloadHostStatus> => this.workloads.status(),
    /**
     * The harder fault: SIGKILL the workload host. Every workload of the provider stops answering while the API
     * still reports its instances running; it stays so until `startWorkloadHost`.
     */
    killWorkloadHost: async (): Promise<WorkloadHostStatus> => {
      await this.workloads.kill();
      return this.workloads.status();
    },
    /** Ends a killed host's downtime: a new host serves every running workload again, from its disk. */
    startWorkloadHost: async (): Promise<WorkloadHostStatus> => {
      this.workloads.start();
      await this.syncWorkloads();
      return this.workloads.status();
    },
  };

  private closed = false;
  /** Quota usage, rebuilt from the rows on open and kept in step after every committed create or delete. */
  private readonly usage: SimQuotas = { instances: 0, vcpus: 0, volumes: 0, volumeGiB: 0 };
  /** Workload syncs run one after another; `queuedSync` is one that has not read the rows yet, which callers share. */
  private syncChain: Promise<void> = Promise.resolve();
  private queuedSync?: Promise<void>;
  /** Wakes a sync when the next workload transition is due (a pending instance becoming running, say). */
  private syncTimer?: NodeJS.Timeout;
  /** True once the address block has changed under existing instances: every address is then looked up before use. */
  private addressReuse = false;
  /** Names this adapter object in its change tokens, so a token from another (an earlier open, another file) is not trusted. */
  private readonly epoch = randomBytes(6).toString('hex');

  private constructor(
    readonly providerId: string,
    private readonly settings: SimSettings,
    private readonly state: SimState,
    private readonly disks: SimDisks,
    private readonly faults: FaultInjector,
    private readonly workloads: WorkloadHost,
    private readonly log: AdapterContext['log'],
  ) {
    this.networks = new SimNetworks(state);
  }
  private readonly networks: SimNetworks;

  static async open(ctx: AdapterContext): Promise<SimCloudAdapter> {
    const settings = parseSimSettings(ctx.providerId, ctx.settings, (obj, msg) => ctx.log.warn(obj, msg));
    mkdirSync(ctx.dataDir, { recursive: true });
    const state = new SimState(join(ctx.dataDir, 'sim.db'));
    try {
      const disks = new SimDisks(join(ctx.dataDir, 'disks'));
      seedImages(state, disks, Date.now());
      seedWorkloadImages(state, disks, settings.workload.images, Date.now());
      await removeOrphanDisks(state, disks, Date.now());
      const bucket =
        settings.rateLimit && new TokenBucket(ctx.providerId, settings.rateLimit.requestsPerSecond, settings.rateLimit.burst);
      // Faults set at runtime win over the config, which only seeds them: a drill survives a gateway restart.
      const faults = new FaultInjector(
        ctx.providerId,
        state.getMeta<SimFaults>('faults') ?? settings.faults,
        (f) => state.setMeta('faults', f),
        bucket,
      );
      state.purge(Date.now());
      const host = new WorkloadHost(ctx.providerId, ctx.log);
      const adapter = new SimCloudAdapter(ctx.providerId, settings, state, disks, faults, host, ctx.log);
      adapter.recountUsage();
      adapter.addressReuse = addressBlockChanged(state, settings.addressBlock.cidr);
      // After a gateway restart, running workloads serve again before the first API call is answered.
      await adapter.syncWorkloads();
      return adapter;
    } catch (e) {
      state.close();
      throw toSkygateError(e, ctx.providerId);
    }
  }

  capabilities(): Capabilities {
    return {
      instances: true,
      images: true,
      snapshots: true,
      volumes: true,
      imageDownload: true,
      imageUpload: true,
      nativeImageCopy: false,
      idempotentCreate: true,
      suspend: true,
      networks: true,
      extensions: Object.keys(this.extensions),
    };
  }

  /** Static configuration, so it answers even during an outage. */
  async zones(): Promise<string[]> {
    return [...this.settings.zones];
  }

  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    await this.faults.delay();
    const checkedAt = new Date().toISOString();
    if (this.closed) return { status: 'down', checkedAt, message: 'sim adapter is closed' };
    this.state.ping();
    const latencyMs = Math.round(performance.now() - started);
    const { outage, errorRate } = this.faults.get();
    if (outage) return { status: 'down', checkedAt, latencyMs, message: 'sim outage switch is on' };
    if (errorRate > 0)
      return { status: 'degraded', checkedAt, latencyMs, message: `sim is failing calls at random (errorRate ${errorRate})` };
    return { status: 'up', checkedAt, latencyMs };
  }

  listFlavors(): Promise<NativeFlavor[]> {
    return this.call(() => SIM_FLAVORS.map((f) => ({ ...f })));
  }

  listInstances(page?: PageRequest): Promise<NativePage<NativeInstance>> {
    return this.call((now) => this.list('instances', page, now, (r) => this.toInstance(r, now)));
  }

  /**
   * Changes since a token of this adapter object: rows written since its change number (by any process), rows whose
   * transition fell due or whose linger time ended since its time, removed rows, and `recheck` read as they are now.
   */
  listChanges<K extends TaggableKind>(
    kind: K,
    since: string | undefined,
    recheck: readonly string[],
  ): Promise<NativeChanges<NativeOfKind[K]>> {
    return this.call((now) => {
      const table = TABLE_OF[kind];
      if (table === undefined) throw invalid('kind', `'${String(kind)}' is not a listed kind`);
      const convert = (row: Tables[typeof table]) => this.toNative(table, row, now) as NativeOfKind[K];
      const from = this.parseChangeToken(since);
      const found = from && recheck.length <= MAX_CHANGES ? this.state.changes(table, from, now, MAX_CHANGES) : undefined;
      if (found === undefined) return { next: this.changeToken(this.state.changePoint(now)) };
      const items = found.changes.rows.map(convert);
      const gone = [...found.changes.gone];
      const seen = new Set([...gone, ...found.changes.rows.map((r) => r.id)]);
      for (const id of recheck) {
        if (typeof id !== 'string' || seen.has(id)) continue;
        seen.add(id);
        const row = this.state.get(table, id, now);
        if (row === undefined) gone.push(id);
        else items.push(convert(row));
      }
      return { next: this.changeToken(found.point), changes: { items, gone } };
    });
  }

  getInstance(id: string): Promise<NativeInstance> {
    return this.call((now) => this.toInstance(this.mustGet('instances', id, now), now));
  }

  createInstance(spec: CreateInstanceSpec): Promise<NativeInstance> {
    return this.call(async (now) => {
      const clientToken = checkToken(spec.clientToken);
      const name = checkText(spec.name, 'name', 255);
      const tags = tagsOf(spec.tags);
      const flavor = SIM_FLAVORS.find((f) => f.nativeId === spec.flavorId);
      if (flavor === undefined) throw invalid('flavorId', `flavor '${String(spec.flavorId)}' does not exist`);
      const zone = this.checkZone(spec.zone);
      const keyName = spec.keyName === undefined ? null : checkText(spec.keyName, 'keyName', 255);
      if (spec.userData !== undefined && (typeof spec.userData !== 'string' || spec.userData.length > 65_536)) {
        throw invalid('userData', 'must be a string of at most 64 KiB');
      }
      if (spec.networkId !== undefined && (typeof spec.networkId !== 'string' || spec.networkId.length === 0))
        throw invalid('networkId', 'must be the native id of a network');
      const id = newId('i');
      // A workload image needs a disk copy, made outside the transaction (it is file I/O) and before the row, so a
      // crash never leaves a row without its disk (at worst a copy without a row, which the next open removes). The
      // first attempt finds out whether the image is one; plain images go through in that one attempt.
      let copy: { workload: string; file: string } | undefined;
      for (;;) {
        let created: { row: InstanceRow; fresh: boolean } | { copyFrom: ImageRow; workload: string };
        try {
          created = this.state.tx(() => {
            const existing = this.state.byToken('instances', clientToken, now);
            if (existing !== undefined) return { row: existing, fresh: false };
            const image = this.state.get('images', spec.imageId, now);
            if (image === undefined) throw invalid('imageId', `image '${String(spec.imageId)}' does not exist`);
            const imageState = effectiveState(image, now);
            if (imageState !== 'available') throw conflict(`image ${image.id} is ${imageState}, not available`, 'imageId');
            if (image.min_disk_gib > flavor.diskGiB) {
              throw invalid(
                'flavorId',
                `${flavor.nativeId} has a ${flavor.diskGiB} GiB disk; image ${image.id} needs ${image.min_disk_gib} GiB`,
              );
            }
            const workload = workloadOf(image);
            // A workload serves on its instance's own loopback address, which only the default network hands out.
            if (workload !== undefined && spec.networkId !== undefined)
              throw invalid('networkId', `image ${image.id} runs a workload, which the sim serves on the default network only`);
            if (workload !== undefined && copy?.workload !== workload) return { copyFrom: image, workload };
            this.checkQuota('instances', 1);
            this.checkQuota('vcpus', flavor.vcpus);
            const n = this.state.nextCounter('instance_seq');
            const row: InstanceRow = {
              id,
              client_token: clientToken,
              name,
              ...this.transition('pending', 'running', now),
              flavor_id: flavor.nativeId,
              image_id: image.id,
              zone: zone ?? this.settings.zones[n % this.settings.zones.length]!,
              private_ip:
                spec.networkId === undefined
                  ? this.allocateAddress(n, now)
                  : this.networks.allocate(spec.networkId, now, this.providerId),
              network_id: spec.networkId ?? null,
              key_name: keyName,
              user_data: spec.userData ?? null,
              tags: JSON.stringify(tags),
              created_at: new Date(now).toISOString(),
              gone_at: null,
              workload: workload ?? null,
              disk_file: workload === undefined ? null : (copy?.file ?? null),
            };
            this.state.insert('instances', row);
            return { row, fresh: true };
          });
        } catch (e) {
          if (copy !== undefined) await this.disks.remove(copy.file);
          throw e;
        }
        if ('copyFrom' in created) {
          copy = { workload: created.workload, file: await this.copyWorkloadDisk(id, created.copyFrom, created.workload) };
          continue;
        }
        // A repeated token, or an image whose tag went away while the disk was copied: the copy is not needed.
        if (copy !== undefined && created.row.disk_file !== copy.file) await this.disks.remove(copy.file);
        if (created.fresh) {
          this.usage.instances += 1;
          this.usage.vcpus += flavor.vcpus;
          if (created.row.workload !== null) await this.syncWorkloads();
        }
        return this.toInstance(created.row, now);
      }
    });
  }

  startInstance(id: string): Promise<void> {
    return this.call((now) => this.instanceAction('start', id, now));
  }

  /** A stopping instance's workload stops at once; its data stays on its disk for the next start. */
  stopInstance(id: string): Promise<void> {
    return this.call((now) => this.instanceAction('stop', id, now));
  }

  /** A suspending instance's workload stops at once, as on a stop; a start resumes it, serving its disk's data again. */
  suspendInstance(id: string): Promise<void> {
    return this.call((now) => this.instanceAction('suspend', id, now));
  }

  /** A workload is down for the reboot's duration (latencyMs) and serves again from its disk. */
  rebootInstance(id: string): Promise<void> {
    return this.call((now) => this.instanceAction('reboot', id, now));
  }

  deleteInstance(id: string): Promise<void> {
    return this.call(async (now) => {
      const freed = this.state.tx(() => {
        const row = this.mustGet('instances', id, now);
        const current = effectiveState(row, now);
        if (current === 'terminating' || current === 'terminated') return undefined;
        const t = this.transition('terminating', 'terminated', now);
        this.state.update('instances', id, { ...t, gone_at: (t.due_at ?? now) + this.settings.terminatedRetentionMs });
        // As EC2 with DeleteOnTermination=false: data volumes survive and detach alongside the termination.
        for (const vol of this.state.volumesOf(id)) {
          const vs = effectiveState(vol, now);
          if (vs === 'attaching' || vs === 'in-use')
            this.state.update('volumes', vol.id, this.transition('detaching', 'available', now));
        }
        this.state.purge(now);
        return { flavor: flavorOf(row.flavor_id), disk: row.disk_file };
      });
      if (freed !== undefined) {
        this.usage.instances -= 1;
        this.usage.vcpus -= freed.flavor?.vcpus ?? 0;
        if (freed.disk !== null) {
          // The server stops first, then its disk goes: a terminated instance's data is gone, as on EC2.
          await this.syncWorkloads();
          await this.disks.remove(freed.disk);
        }
      }
    });
  }

  rename(kind: RenamableKind, id: string, name: string): Promise<void> {
    return this.call((now) => {
      const table = TABLE_OF[kind];
      const checked = checkText(name, 'name', 255);
      this.state.tx(() => {
        this.mustGet(table, id, now);
        this.state.update(table, id, { name: checked });
      });
    });
  }

  setTags(kind: TaggableKind, id: string, tags: Tags): Promise<void> {
    return this.call((now) => {
      const table = TABLE_OF[kind];
      if (table === undefined) throw invalid('kind', `'${String(kind)}' resources carry no tags`);
      const checked = tagsOf(tags);
      this.state.tx(() => {
        this.mustGet(table, id, now);
        this.state.update(table, id, { tags: JSON.stringify(checked) });
      });
    });
  }

  listImages(page?: PageRequest): Promise<NativePage<NativeImage>> {
    return this.call((now) => this.list('images', page, now, (r) => this.toImage(r, now)));
  }

  getImage(id: string): Promise<NativeImage> {
    return this.call((now) => this.toImage(this.mustGet('images', id, now), now));
  }

  createImageFromInstance(instanceId: string, spec: CreateImageSpec): Promise<NativeImage> {
    return this.call(async (now) => {
      const clientToken = checkToken(spec.clientToken);
      const name = checkText(spec.name, 'name', 255);
      const tags = tagsOf(spec.tags);
      const existing = this.state.byToken('images', clientToken, now);
      if (existing !== undefined) return this.toImage(existing, now);
      const instance = this.mustGet('instances', instanceId, now, 'instanceId');
      const current = effectiveState(instance, now);
      if (current !== 'running' && current !== 'stopped') {
        throw conflict(`cannot create an image from instance ${instanceId}: it is ${current}`, 'instanceId');
      }
      const source = this.state.get('images', instance.image_id, now);
      const id = newId('img');
      // A workload instance's own disk holds its data: the image is taken from it, so it carries the data.
      const diskFormat = instance.disk_file !== null ? 'raw' : (source?.disk_format ?? 'raw');
      const file = `${id}.${diskFormat}`;
      const stamp = `instance=${instanceId} image=${id} at=${new Date(now).toISOString()}`;
      const sizeBytes = await this.disks.capture(instance.disk_file ?? source?.file ?? null, file, stamp);
      // The captured disk runs the same software, so its instances serve the same workload.
      if (instance.workload !== null && tags[WORKLOAD_TAG] === undefined) tags[WORKLOAD_TAG] = instance.workload;
      const done = Date.now();
      return this.toImage(
        await this.insertImage(file, done, {
          id,
          client_token: clientToken,
          name,
          ...this.transition('pending', 'available', done),
          size_bytes: sizeBytes,
          disk_format: diskFormat,
          min_disk_gib: flavorOf(instance.flavor_id)?.diskGiB ?? source?.min_disk_gib ?? 1,
          os: source?.os ?? null,
          source_instance_id: instanceId,
          file,
          tags: JSON.stringify(tags),
          created_at: new Date(done).toISOString(),
        }),
        done,
      );
    });
  }

  deleteImage(id: string): Promise<void> {
    return this.call(async (now) => {
      const row = this.mustGet('images', id, now);
      this.state.remove('images', id);
      await this.disks.remove(row.file);
    });
  }

  downloadImage(id: string): Promise<{ stream: Readable; sizeBytes: number; diskFormat: NativeImage['diskFormat'] }> {
    return this.call(async (now) => {
      const row = this.mustGet('images', id, now);
      const current = effectiveState(row, now);
      if (current !== 'available') throw conflict(`cannot download image ${id}: it is ${current}`);
      const disk = await this.disks.read(row.file);
      if (disk === undefined)
        throw new SkygateError('internal', `sim: the disk file of image ${id} is missing`, { provider: this.providerId });
      return { ...disk, diskFormat: row.disk_format as NativeImage['diskFormat'] };
    });
  }

  uploadImage(spec: UploadImageSpec, data: Readable): Promise<NativeImage> {
    return this.call(async (now) => {
      const clientToken = checkToken(spec.clientToken);
      const name = checkText(spec.name, 'name', 255);
      const tags = tagsOf(spec.tags);
      if (!DISK_FORMATS.has(spec.diskFormat)) throw invalid('diskFormat', `must be one of ${[...DISK_FORMATS].join(', ')}`);
      const declaredSize = checkOptionalInt(spec.sizeBytes, 'sizeBytes', 0);
      const minDiskGiB = checkOptionalInt(spec.minDiskGiB, 'minDiskGiB', 0);
      const os = spec.os === undefined ? null : checkText(spec.os, 'os', 255);
      const existing = this.state.byToken('images', clientToken, now);
      if (existing !== undefined) {
        // The bytes are already stored under this token; reading them again would only waste the caller's time.
        data.destroy();
        return this.toImage(existing, now);
      }
      const id = newId('img');
      const file = `${id}.${spec.diskFormat}`;
      const sizeBytes = await this.disks.receive(file, data);
      if (declaredSize !== undefined && declaredSize !== sizeBytes) {
        await this.disks.remove(file);
        throw invalid('sizeBytes', `declared ${declaredSize} bytes but the upload carried ${sizeBytes}`);
      }
      const done = Date.now();
      return this.toImage(
        await this.insertImage(file, done, {
          id,
          client_token: clientToken,
          name,
          ...this.transition('pending', 'available', done),
          size_bytes: sizeBytes,
          disk_format: spec.diskFormat,
          min_disk_gib: minDiskGiB ?? Math.max(1, Math.ceil(sizeBytes / 2 ** 30)),
          os,
          source_instance_id: null,
          file,
          tags: JSON.stringify(tags),
          created_at: new Date(done).toISOString(),
        }),
        done,
      );
    });
  }

  listSnapshots(page?: PageRequest): Promise<NativePage<NativeSnapshot>> {
    return this.call((now) => this.list('snapshots', page, now, (r) => this.toSnapshot(r, now)));
  }

  getSnapshot(id: string): Promise<NativeSnapshot> {
    return this.call((now) => this.toSnapshot(this.mustGet('snapshots', id, now), now));
  }

  createSnapshot(volumeId: string, spec: CreateSnapshotSpec): Promise<NativeSnapshot> {
    return this.call((now) => {
      const clientToken = checkToken(spec.clientToken);
      const name = checkText(spec.name, 'name', 255);
      const tags = tagsOf(spec.tags);
      const row = this.state.tx(() => {
        const existing = this.state.byToken('snapshots', clientToken, now);
        if (existing !== undefined) return existing;
        const volume = this.mustGet('volumes', volumeId, now, 'volumeId');
        const vs = effectiveState(volume, now);
        if (vs !== 'available' && vs !== 'in-use') throw conflict(`cannot snapshot volume ${volumeId}: it is ${vs}`, 'volumeId');
        const snap: SnapshotRow = {
          id: newId('snap'),
          client_token: clientToken,
          name,
          ...this.transition('pending', 'available', now),
          volume_id: volumeId,
          size_gib: volume.size_gib,
          tags: JSON.stringify(tags),
          created_at: new Date(now).toISOString(),
        };
        this.state.insert('snapshots', snap);
        return snap;
      });
      return this.toSnapshot(row, now);
    });
  }

  deleteSnapshot(id: string): Promise<void> {
    return this.call((now) => {
      this.state.tx(() => {
        this.mustGet('snapshots', id, now);
        this.state.remove('snapshots', id);
      });
    });
  }

  listVolumes(page?: PageRequest): Promise<NativePage<NativeVolume>> {
    return this.call((now) => this.list('volumes', page, now, (r) => this.toVolume(r, now)));
  }

  // --- networks beside the default one (an instance launched on one keeps it from being deleted)

  createNetwork(spec: CreateNetworkSpec): Promise<NativeNetwork> {
    return this.call((now) => this.networks.create(spec, now));
  }

  listNetworks(): Promise<NativeNetwork[]> {
    return this.call(() => this.networks.list());
  }

  deleteNetwork(id: string): Promise<void> {
    return this.call(() => this.networks.delete(id));
  }

  updateNetwork(id: string, change: { name?: string; tags?: Tags }): Promise<NativeNetwork> {
    return this.call(() => this.networks.update(id, change));
  }

  getVolume(id: string): Promise<NativeVolume> {
    return this.call((now) => this.toVolume(this.mustGet('volumes', id, now), now));
  }

  createVolume(spec: CreateVolumeSpec): Promise<NativeVolume> {
    return this.call((now) => {
      const clientToken = checkToken(spec.clientToken);
      const name = checkText(spec.name, 'name', 255);
      const tags = tagsOf(spec.tags);
      const sizeGiB = spec.sizeGiB;
      if (typeof sizeGiB !== 'number' || !Number.isInteger(sizeGiB) || sizeGiB < 1 || sizeGiB > MAX_VOLUME_GIB) {
        throw invalid('sizeGiB', `must be an integer from 1 to ${MAX_VOLUME_GIB}`);
      }
      const zone = this.checkZone(spec.zone) ?? this.settings.zones[0]!;
      const created = this.state.tx(() => {
        const existing = this.state.byToken('volumes', clientToken, now);
        if (existing !== undefined) return { row: existing, fresh: false };
        if (spec.snapshotId !== undefined) {
          const snap = this.state.get('snapshots', spec.snapshotId, now);
          if (snap === undefined) throw invalid('snapshotId', `snapshot '${String(spec.snapshotId)}' does not exist`);
          const ss = effectiveState(snap, now);
          if (ss !== 'available') throw conflict(`snapshot ${snap.id} is ${ss}, not available`, 'snapshotId');
          if (sizeGiB < snap.size_gib) throw invalid('sizeGiB', `must be at least the snapshot's ${snap.size_gib} GiB`);
        }
        this.checkQuota('volumes', 1);
        this.checkQuota('volumeGiB', sizeGiB);
        const row: VolumeRow = {
          id: newId('vol'),
          client_token: clientToken,
          name,
          ...this.transition('creating', 'available', now),
          size_gib: sizeGiB,
          zone,
          attached_to: null,
          device: null,
          snapshot_id: spec.snapshotId ?? null,
          tags: JSON.stringify(tags),
          created_at: new Date(now).toISOString(),
          gone_at: null,
        };
        this.state.insert('volumes', row);
        return { row, fresh: true };
      });
      if (created.fresh) {
        this.usage.volumes += 1;
        this.usage.volumeGiB += sizeGiB;
      }
      return this.toVolume(created.row, now);
    });
  }

  attachVolume(volumeId: string, instanceId: string, device?: string): Promise<void> {
    return this.call((now) => {
      if (device !== undefined && (typeof device !== 'string' || !/^\/dev\/[a-z0-9]{1,16}$/.test(device))) {
        throw invalid('device', 'must look like /dev/sdf');
      }
      this.state.tx(() => {
        const volume = this.mustGet('volumes', volumeId, now, 'volumeId');
        const vs = effectiveState(volume, now);
        if (vs !== 'available') throw conflict(`cannot attach volume ${volumeId}: it is ${vs}`, 'volumeId');
        const instance = this.mustGet('instances', instanceId, now, 'instanceId');
        const is = effectiveState(instance, now);
        if (is !== 'running' && is !== 'stopped')
          throw conflict(`cannot attach to instance ${instanceId}: it is ${is}`, 'instanceId');
        if (volume.zone !== instance.zone) {
          throw invalid('instanceId', `volume ${volumeId} is in zone ${volume.zone}, instance ${instanceId} in ${instance.zone}`);
        }
        const taken = new Set(
          this.state
            .volumesOf(instanceId)
            .filter((v) => ATTACHED.has(effectiveState(v, now)))
            .map((v) => v.device),
        );
        if (device !== undefined && taken.has(device))
          throw conflict(`device ${device} is in use on instance ${instanceId}`, 'device');
        const chosen = device ?? DEVICES.find((d) => !taken.has(d));
        if (chosen === undefined) throw conflict(`instance ${instanceId} has no free device left`, 'instanceId');
        this.state.update('volumes', volumeId, {
          ...this.transition('attaching', 'in-use', now),
          attached_to: instanceId,
          device: chosen,
        });
      });
    });
  }

  detachVolume(volumeId: string): Promise<void> {
    return this.call((now) => {
      this.state.tx(() => {
        const vs = effectiveState(this.mustGet('volumes', volumeId, now), now);
        if (vs !== 'in-use') throw conflict(`cannot detach volume ${volumeId}: it is ${vs}`);
        this.state.update('volumes', volumeId, this.transition('detaching', 'available', now));
      });
    });
  }

  deleteVolume(id: string): Promise<void> {
    return this.call((now) => {
      const freed = this.state.tx(() => {
        const row = this.mustGet('volumes', id, now);
        const vs = effectiveState(row, now);
        if (vs === 'deleting') return undefined;
        if (vs !== 'available' && vs !== 'error') throw conflict(`cannot delete volume ${id}: it is ${vs}`);
        const t = this.transition('deleting', 'deleted', now);
        this.state.update('volumes', id, { ...t, gone_at: t.due_at ?? now });
        this.state.purge(now);
        return row.size_gib;
      });
      if (freed !== undefined) {
        this.usage.volumes -= 1;
        this.usage.volumeGiB -= freed;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.syncTimer);
    await this.syncChain;
    await this.workloads.close();
    this.state.close();
  }

  /** Every API call: the fault gate, then the work at one `now`, with anything unexpected mapped to the taxonomy. */
  private async call<T>(fn: (now: number) => T | Promise<T>): Promise<T> {
    await this.faults.before();
    if (this.closed)
      throw new SkygateError('internal', `sim provider '${this.providerId}' is closed`, { provider: this.providerId });
    try {
      return await fn(Date.now());
    } catch (e) {
      throw toSkygateError(e, this.providerId);
    }
  }

  private async instanceAction(action: keyof typeof INSTANCE_ACTIONS, id: string, now: number): Promise<void> {
    const moved = this.state.tx(() => {
      const row = this.mustGet('instances', id, now);
      const current = effectiveState(row, now);
      const move = INSTANCE_ACTIONS[action][current];
      if (move === undefined) throw conflict(`cannot ${action} instance ${id}: it is ${current}`);
      if (move !== null) this.state.update('instances', id, this.transition(move[0], move[1], now));
      return move !== null && row.workload !== null;
    });
    if (moved) await this.syncWorkloads();
  }

  /** Copies a workload image's disk for instance `id`, after checking the sim can run it; answers the copy's file. */
  private async copyWorkloadDisk(id: string, image: ImageRow, workload: string): Promise<string> {
    if (!WORKLOAD_APPS.has(workload)) {
      throw invalid(
        'imageId',
        `image ${image.id} asks for workload '${workload}' (tag ${WORKLOAD_TAG}); the sim runs ${[...WORKLOAD_APPS].join(', ')}`,
      );
    }
    if (image.disk_format !== 'raw') {
      throw invalid(
        'imageId',
        `image ${image.id} asks for the ${workload} workload but its disk is ${image.disk_format}; a workload needs a raw disk`,
      );
    }
    const file = `${id}.raw`;
    try {
      await this.disks.cloneForInstance(image.file, file);
    } catch (e) {
      throw new SkygateError('internal', `sim: cannot copy the disk of image ${image.id}: ${(e as Error).message}`, {
        provider: this.providerId,
      });
    }
    return file;
  }

  /**
   * Brings the workload host in line with the rows: every workload instance that is running serves, none other
   * does, and none at all during an outage. Never throws: a workload that cannot serve is logged and shown by
   * `extensions.workloadHost()`, and the API call that caused the sync still succeeds, as on a real cloud.
   */
  private syncWorkloads(): Promise<void> {
    if (this.queuedSync !== undefined) return this.queuedSync;
    const run = this.syncChain.then(async () => {
      this.queuedSync = undefined;
      if (this.closed) return;
      try {
        const now = Date.now();
        const rows = this.state.workloadInstances(now);
        const serve = this.faults.get().outage
          ? []
          : rows.filter((r) => r.disk_file !== null && effectiveState(r, now) === 'running').map((r) => this.served(r));
        await this.workloads.sync(serve);
        this.wakeAtNextTransition(rows, now);
      } catch (e) {
        this.log.warn({ provider: this.providerId, err: (e as Error).message }, 'sim: workload sync failed');
      }
    });
    this.queuedSync = run;
    this.syncChain = run;
    return run;
  }

  private wakeAtNextTransition(rows: InstanceRow[], now: number): void {
    clearTimeout(this.syncTimer);
    const due = rows.flatMap((r) => (r.target_state !== null && r.due_at !== null && r.due_at > now ? [r.due_at] : []));
    if (due.length === 0) return;
    // unref: a pending transition must not keep a finished test or CLI process alive.
    this.syncTimer = setTimeout(() => void this.syncWorkloads(), Math.min(...due) - now + 1).unref();
  }

  private served(r: InstanceRow): ServedInstance {
    return {
      instanceId: r.id,
      providerId: this.providerId,
      imageId: r.image_id,
      address: r.private_ip,
      port: this.settings.workload.port,
      disk: this.disks.pathOf(r.disk_file!),
    };
  }

  /**
   * The address for the `n`-th instance: the counter's place in the block, or, once the counter has gone round the
   * block (or the block has changed since addresses were handed out), the next one that no instance holds.
   */
  private allocateAddress(n: number, now: number): string {
    const block = this.settings.addressBlock;
    // Before the first round is complete every counter value is a new address: no lookup, so plain launches cost
    // what they did before addresses could be reused.
    if (n < block.capacity && !this.addressReuse) return block.addressAt(n);
    // Bounded by the live instances: every address skipped is held by one.
    for (let k = 0; k < block.capacity; k++) {
      const ip = block.addressAt((n + k) % block.capacity);
      if (!this.state.addressHeld(ip, now)) return ip;
    }
    throw new SkygateError('quota_exceeded', `sim: address block ${block.cidr} has no free address left`, {
      provider: this.providerId,
    });
  }

  /** The stored form of "now `interim`, `final` after latencyMs"; with no latency the final state is stored outright. */
  private transition(interim: string, final: string, now: number): Transition {
    return this.settings.latencyMs === 0
      ? { state: final, target_state: null, due_at: null }
      : { state: interim, target_state: final, due_at: now + this.settings.latencyMs };
  }

  /** Inserts an image unless a concurrent call with the same token won the race while our disk was written. */
  private async insertImage(file: string, now: number, row: ImageRow): Promise<ImageRow> {
    const stored = this.state.tx(() => {
      const raced = row.client_token === null ? undefined : this.state.byToken('images', row.client_token, now);
      if (raced !== undefined) return raced;
      this.state.insert('images', row);
      return row;
    });
    if (stored !== row) await this.disks.remove(file);
    return stored;
  }

  private list<T extends Table, R>(
    table: T,
    page: PageRequest | undefined,
    now: number,
    convert: (row: Tables[T]) => R,
  ): NativePage<R> {
    const limit = page?.limit ?? MAX_PAGE;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw invalid('limit', 'must be an integer >= 1');
    const marker = page?.marker ?? '';
    if (typeof marker !== 'string') throw invalid('marker', 'must be a string');
    // Like Nova's max_limit: a larger page is quietly cut down rather than refused.
    const { rows, more } = this.state.page(table, marker, Math.min(limit, MAX_PAGE), now);
    const items = rows.map(convert);
    return more ? { items, marker: rows[rows.length - 1]!.id } : { items };
  }

  private changeToken(point: ChangePoint): string {
    return `${this.epoch}.${point.rev}.${point.at}`;
  }

  /** The point a token of this adapter object names; undefined for anything else. */
  private parseChangeToken(token: string | undefined): ChangePoint | undefined {
    const [epoch, rev, at, ...rest] = typeof token === 'string' ? token.split('.') : [];
    if (epoch !== this.epoch || rest.length > 0 || !/^\d+$/.test(rev ?? '') || !/^\d+$/.test(at ?? '')) return undefined;
    return { rev: Number(rev), at: Number(at) };
  }

  private toNative<T extends Table>(table: T, row: Tables[T], now: number): unknown {
    switch (table) {
      case 'instances':
        return this.toInstance(row as InstanceRow, now);
      case 'images':
        return this.toImage(row as ImageRow, now);
      case 'volumes':
        return this.toVolume(row as VolumeRow, now);
      default:
        return this.toSnapshot(row as SnapshotRow, now);
    }
  }

  private mustGet<T extends Table>(table: T, id: string, now: number, field?: string): Tables[T] {
    const row = typeof id === 'string' ? this.state.get(table, id, now) : undefined;
    if (row === undefined) throw notFound(KIND[table], String(id), field);
    return row;
  }

  private checkZone(zone: unknown): string | undefined {
    if (zone === undefined) return undefined;
    if (typeof zone !== 'string' || !this.settings.zones.includes(zone)) {
      throw invalid('zone', `must be one of ${this.settings.zones.join(', ')}`);
    }
    return zone;
  }

  private checkQuota(key: keyof SimQuotas, more: number): void {
    const limit = this.settings.quotas[key];
    const used = this.usage[key];
    if (used + more > limit) {
      throw new SkygateError('quota_exceeded', `sim: ${key} quota exceeded (${used} in use + ${more} requested > ${limit})`, {
        provider: this.providerId,
      });
    }
  }

  private recountUsage(): void {
    const u = this.state.usage();
    for (const { flavor_id, n } of u.instancesByFlavor) {
      this.usage.instances += n;
      this.usage.vcpus += n * (flavorOf(flavor_id)?.vcpus ?? 0);
    }
    this.usage.volumes = u.volumes;
    this.usage.volumeGiB = u.volumeGiB;
  }

  private toInstance(r: InstanceRow, now: number): NativeInstance {
    const state = effectiveState(r, now) as InstanceState;
    return {
      nativeId: r.id,
      name: r.name,
      state,
      flavorId: r.flavor_id,
      imageId: r.image_id,
      zone: r.zone,
      // A terminated instance has released its address, as on EC2.
      ...(state !== 'terminated' && { privateIp: r.private_ip }),
      ...(r.network_id !== null && r.network_id !== undefined && { networkId: r.network_id }),
      tags: JSON.parse(r.tags) as Tags,
      createdAt: r.created_at,
    };
  }

  private toImage(r: ImageRow, now: number): NativeImage {
    return {
      nativeId: r.id,
      name: r.name,
      state: effectiveState(r, now) as ImageState,
      sizeBytes: r.size_bytes,
      diskFormat: r.disk_format as NativeImage['diskFormat'],
      minDiskGiB: r.min_disk_gib,
      ...(r.os !== null && { os: r.os }),
      ...(r.source_instance_id !== null && { sourceInstanceId: r.source_instance_id }),
      tags: JSON.parse(r.tags) as Tags,
      createdAt: r.created_at,
    };
  }

  private toSnapshot(r: SnapshotRow, now: number): NativeSnapshot {
    return {
      nativeId: r.id,
      name: r.name,
      state: effectiveState(r, now) as SnapshotState,
      volumeId: r.volume_id,
      sizeGiB: r.size_gib,
      tags: JSON.parse(r.tags) as Tags,
      createdAt: r.created_at,
    };
  }

  private toVolume(r: VolumeRow, now: number): NativeVolume {
    const state = effectiveState(r, now) as VolumeState;
    // The stored attachment outlives a finished detach; only an attached state shows it.
    const attached = ATTACHED.has(state) && r.attached_to !== null;
    return {
      nativeId: r.id,
      name: r.name,
      state,
      sizeGiB: r.size_gib,
      zone: r.zone,
      ...(attached && { attachedTo: r.attached_to!, ...(r.device !== null && { device: r.device }) }),
      ...(r.snapshot_id !== null && { snapshotId: r.snapshot_id }),
      tags: JSON.parse(r.tags) as Tags,
      createdAt: r.created_at,
    };
  }
}

/** The row of an image the sim adds itself (stock or workload): available, raw, its disk file named after it. */
function seedImageRow(id: string, name: string, opts: { minDiskGiB: number; os: string; tags?: Tags }, now: number): ImageRow {
  return {
    id,
    client_token: null,
    name,
    state: 'available',
    target_state: null,
    due_at: null,
    size_bytes: SEED_DISK_BYTES,
    disk_format: 'raw',
    min_disk_gib: opts.minDiskGiB,
    os: opts.os,
    source_instance_id: null,
    file: `${id}.raw`,
    tags: JSON.stringify({ 'sim:seed': 'true', ...opts.tags }),
    created_at: new Date(now).toISOString(),
  };
}

/** Seeds the stock images once (a deleted seed stays deleted) and re-creates any missing seed disk file. */
function seedImages(state: SimState, disks: SimDisks, now: number): void {
  state.tx(() => {
    if (state.getMeta<boolean>('seeded') === true) return;
    for (const s of SIM_SEED_IMAGES) {
      if (state.get('images', s.id, now) !== undefined) continue;
      state.insert('images', seedImageRow(s.id, s.name, { minDiskGiB: s.minDiskGiB, os: s.os }, now));
    }
    state.setMeta('seeded', true);
  });
  for (const s of SIM_SEED_IMAGES) {
    if (state.get('images', s.id, now) !== undefined) disks.ensureSeed(`${s.id}.raw`, s.name);
  }
}

const flavorOf = (id: string): NativeFlavor | undefined => SIM_FLAVORS.find((f) => f.nativeId === id);

/** `prefix-` and 17 random hex digits, the shape of an EC2 id. */
const newId = (prefix: string): string => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;

/**
 * Whether instances may hold addresses of another block than the configured one, in which case the counter alone no
 * longer promises a free address. Remembered for good: the old block's instances live on after the change.
 */
function addressBlockChanged(state: SimState, cidr: string): boolean {
  return state.tx(() => {
    const used = state.getMeta<string>('address_block');
    const changed = state.getMeta<boolean>('address_reuse') === true || (used !== undefined && used !== cidr);
    state.setMeta('address_block', cidr);
    if (changed) state.setMeta('address_reuse', true);
    return changed;
  });
}

/** The application an image's instances serve (its `sim:workload` tag), if any; the string test spares a JSON parse per launch. */
function workloadOf(image: ImageRow): string | undefined {
  return image.tags.includes(WORKLOAD_TAG) ? (JSON.parse(image.tags) as Tags)[WORKLOAD_TAG] : undefined;
}

/** Adds the configured workload images once each (a deleted one stays deleted) and re-creates a missing disk file. */
function seedWorkloadImages(state: SimState, disks: SimDisks, seeds: WorkloadImageSeed[], now: number): void {
  state.tx(() => {
    for (const s of seeds) {
      if (state.getMeta<boolean>(`seeded:${s.id}`) === true) continue;
      if (state.get('images', s.id, now) === undefined) {
        state.insert('images', seedImageRow(s.id, s.name, { minDiskGiB: 1, os: 'debian', tags: { [WORKLOAD_TAG]: 'kv' } }, now));
      }
      state.setMeta(`seeded:${s.id}`, true);
    }
  });
  for (const s of seeds) {
    if (state.get('images', s.id, now) !== undefined) disks.ensureSeed(`${s.id}.raw`, s.name);
  }
}

/** Removes instance disk copies whose instance is gone (a crash between copy and row, or between row and removal). */
async function removeOrphanDisks(state: SimState, disks: SimDisks, now: number): Promise<void> {
  const kept = new Set(state.workloadInstances(now).map((r) => r.disk_file));
  for (const file of disks.instanceFiles()) if (!kept.has(file)) await disks.remove(file);
}

function checkToken(token: unknown): string {
  return checkText(token, 'clientToken', 128);
}

function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(field, `must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function checkOptionalInt(value: unknown, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(field, `must be an integer >= ${min}`);
  return value;
}

/** The core's tag policy, applied here too: a tag that reaches the sim by any path obeys the same rules. */
function tagsOf(tags: unknown): Tags {
  if (tags === undefined) return {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw invalid('tags', 'must be an object of strings');
  checkTags(tags as Tags, 'tags');
  return { ...(tags as Tags) };
}
