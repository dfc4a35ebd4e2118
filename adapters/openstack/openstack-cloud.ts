/**
 * The OpenStack CloudAdapter: nova, glance, cinder and neutron networks behind the port, used as a tenant (non-admin)
 * would use them. Portable methods first, then the private converters from OpenStack's records.
 */
import { createHash, getHashes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SkygateError,
  checkNetworkPlan,
  conflict,
  invalid,
  isSkygateError,
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
  type NativeInstance,
  type NativeNetwork,
  type NativePage,
  type NativeSnapshot,
  type NativeVolume,
  type PageRequest,
  type ProviderHealth,
  type RenamableKind,
  type SnapshotState,
  type TaggableKind,
  type Tags,
  type UploadImageSpec,
  type VolumeState,
} from '../../src/core/index.js';
import { Cinder, cinderHeaders, type CinderSnapshot, type CinderVolume } from './cinder.js';
import { Glance, glanceBase, type GlanceImage } from './glance.js';
import { fetchWithDeadline, ServiceClient } from './http.js';
import { type Keystone, keystoneFor } from './keystone.js';
import { Neutron, neutronBase } from './neutron.js';
import { Nova, novaHeaders, type NovaServer } from './nova.js';
import { OpenStackNetworks } from './openstack-networks.js';
import type { OpenStackSettings, ServiceKey } from './openstack-settings.js';

/**
 * Nova, glance and cinder take no client token, so a create stores the token in the resource's own
 * metadata under this key and every create looks for it first: the engine re-running a create step
 * after a crash finds the first resource instead of making a second.
 */
export const CLIENT_TOKEN_KEY = 'skygate-client-token';
/** Glance images carry many base properties; skygate's tags are the ones with this prefix. */
const IMAGE_TAG_PREFIX = 'skygate-tag:';
/** How long a health probe may take before the service counts as failing. */
const HEALTH_TIMEOUT_MS = 5_000;
const ZONES_TTL_MS = 60_000;
/** Marks the listing's last phase, the recently deleted servers (`deleted:` + the last id of a page). */
const DELETED_PHASE = 'deleted:';

type Log = AdapterContext['log'];

export class OpenStackCloudAdapter implements CloudAdapter {
  readonly type = 'openstack';
  readonly keystone: Keystone;
  private readonly nova: Nova;
  private readonly glance: Glance;
  private readonly cinder: Cinder;
  private readonly neutron: Neutron;
  private readonly networks: OpenStackNetworks;
  private zoneCache?: { zones: string[]; at: number };
  private network?: Promise<string>;
  /** Servers nova deleted within the retention, by id (see recentlyDeleted). */
  private readonly deleted = new Map<string, NovaServer>();
  /** Epoch ms up to which nova's deletions are in `deleted`. */
  private deletedSeenUntil = 0;

  constructor(
    readonly providerId: string,
    private readonly settings: OpenStackSettings,
    private readonly log: Log,
    now?: () => number,
  ) {
    this.keystone = keystoneFor(providerId, settings, now);
    const client = (service: ServiceKey, extra: Partial<ConstructorParameters<typeof ServiceClient>[2]> = {}) =>
      new ServiceClient(this.keystone, service, { provider: providerId, timeoutMs: settings.requestTimeoutMs, ...extra });
    this.nova = new Nova(client('compute', { headers: novaHeaders(settings.microversions.compute) }));
    this.glance = new Glance(client('image', { base: glanceBase }));
    this.cinder = new Cinder(client('block-storage', { headers: cinderHeaders(settings.microversions.volume) }));
    this.neutron = new Neutron(client('network', { base: neutronBase }));
    this.networks = new OpenStackNetworks(this.neutron);
  }

  /** Why networks are off: the catalog is not known yet, or has no neutron. */
  get capabilityNotes(): { networks?: string } {
    const services = this.keystone.services();
    if (services === undefined)
      return { networks: 'no authentication at Keystone has succeeded yet, so the service catalog is not known' };
    return services.has('network') ? {} : { networks: 'the service catalog has no network (neutron) service' };
  }

  /**
   * Authenticates once at start-up, so wrong credentials or an unreachable Keystone are reported in
   * the log at once; never throws: the gateway starts and the provider's health says what is wrong.
   */
  async connect(timeoutMs = 10_000): Promise<void> {
    try {
      await within(
        timeoutMs,
        this.keystone.token(),
        `Keystone at ${this.settings.authUrl} did not answer within ${timeoutMs} ms`,
      );
      const services = [...(this.keystone.services() ?? [])];
      this.log.info({ provider: this.providerId, services }, 'openstack: authenticated');
    } catch (e) {
      const err = toSkygateError(e, this.providerId);
      this.log.error(
        { provider: this.providerId, code: err.code, ...(err.requestId && { requestId: err.requestId }) },
        `openstack provider '${this.providerId}' cannot authenticate: ${err.message}`,
      );
    }
  }

  /** What the catalog offers; before a first successful authentication nothing is known, so nothing is claimed. */
  capabilities(): Capabilities {
    const services = this.keystone.services();
    const has = (s: ServiceKey) => services?.has(s) ?? false;
    return {
      instances: has('compute'),
      images: has('image'),
      snapshots: has('block-storage'),
      volumes: has('block-storage'),
      imageDownload: has('image'),
      imageUpload: has('image'),
      // Glance's glance-download import could copy between regions of one Keystone: README, "Image copy".
      nativeImageCopy: false,
      idempotentCreate: has('compute'),
      suspend: has('compute'),
      networks: has('network'),
      extensions: [],
    };
  }

  async zones(): Promise<string[]> {
    if (this.zoneCache && Date.now() - this.zoneCache.at < ZONES_TTL_MS) return this.zoneCache.zones;
    const zones = await this.nova.zones();
    this.zoneCache = { zones, at: Date.now() };
    return zones;
  }

  /**
   * Keystone first (a cached token would hide an identity service that is down), then one cheap read
   * per service: compute failing is `down`, image or block storage failing is `degraded`.
   */
  async health(): Promise<ProviderHealth> {
    const started = Date.now();
    const done = (status: ProviderHealth['status'], message?: string): ProviderHealth => ({
      status,
      checkedAt: new Date().toISOString(),
      latencyMs: Date.now() - started,
      ...(message !== undefined && { message }),
    });
    try {
      const site = { provider: this.providerId, service: 'keystone', method: 'GET', url: this.keystone.identityUrl };
      const res = await fetchWithDeadline(
        this.keystone.identityUrl,
        { headers: { Accept: 'application/json' } },
        HEALTH_TIMEOUT_MS,
        site,
      );
      await res.body?.cancel();
      if (res.status >= 500) return done('down', `Keystone at ${this.settings.authUrl} answers ${res.status}`);
      await within(HEALTH_TIMEOUT_MS, this.keystone.token(), `Keystone did not issue a token within ${HEALTH_TIMEOUT_MS} ms`);
    } catch (e) {
      return done('down', toSkygateError(e, this.providerId).message);
    }
    const services = this.keystone.services() ?? new Set<ServiceKey>();
    const probes: Array<[ServiceKey, () => Promise<unknown>]> = [
      ['compute', () => this.nova.listServers({ limit: 1 })],
      ['image', () => this.glance.listImages({ limit: 1 })],
      ['block-storage', () => this.cinder.listVolumes({ limit: 1 })],
    ];
    const failures: string[] = [];
    let computeDown = !services.has('compute');
    if (computeDown) failures.push('the catalog has no compute service');
    await Promise.all(
      probes
        .filter(([service]) => services.has(service))
        .map(async ([service, probe]) => {
          try {
            await within(HEALTH_TIMEOUT_MS, probe(), `${service} did not answer within ${HEALTH_TIMEOUT_MS} ms`);
          } catch (e) {
            if (service === 'compute') computeDown = true;
            failures.push(toSkygateError(e, this.providerId).message);
          }
        }),
    );
    if (computeDown) return done('down', failures.join('; '));
    return failures.length > 0 ? done('degraded', failures.join('; ')) : done('up');
  }

  async listFlavors(): Promise<NativeFlavor[]> {
    return (await this.nova.listFlavors()).map((f) => ({
      nativeId: f.id,
      name: f.name,
      vcpus: f.vcpus,
      memoryMiB: f.ram,
      diskGiB: f.disk,
    }));
  }

  // ---- instances (nova servers) ----

  async listInstances(page: PageRequest = {}): Promise<NativePage<NativeInstance>> {
    if (!(await this.offers('compute'))) return { items: [] };
    if (page.marker?.startsWith(DELETED_PHASE)) return this.listDeletedInstances(page, page.marker.slice(DELETED_PHASE.length));
    const { servers, more } = await this.nova.listServers({ limit: page.limit, marker: page.marker });
    const on = await this.createdNetworksOf(servers);
    const items = await Promise.all(servers.map((s) => this.toInstance(s, undefined, on.get(s.id))));
    // While servers are being built nova lists their build requests and cell records together and drops
    // duplicates after applying the limit: a page can come back short, without a next link, although
    // more servers follow. Such a page is not trusted to be the last: the caller asks once more.
    const maybeMore = more || servers.some((s) => s.status === 'BUILD');
    if (maybeMore && servers.length > 0) return { items, marker: servers.at(-1)?.id as string };
    // The live servers are done; the recently deleted ones follow, as terminated instances.
    return { items, ...(this.settings.terminatedRetentionMs > 0 && { marker: DELETED_PHASE }) };
  }

  /** A server nova has deleted reads as `terminated` for `terminatedRetentionMs` after, though nova answers 404. */
  async getInstance(id: string): Promise<NativeInstance> {
    try {
      const server = await this.nova.getServer(id);
      return await this.toInstance(server, undefined, (await this.createdNetworksOf([server])).get(id));
    } catch (e) {
      const deleted = isSkygateError(e) && e.code === 'not_found' ? await this.deletedServer(id) : undefined;
      if (!deleted) throw e;
      return this.toInstance(deleted);
    }
  }

  async createInstance(spec: CreateInstanceSpec): Promise<NativeInstance> {
    const token = tokenValue(spec.clientToken);
    const existing = await this.findServer(spec.name, token);
    // Booted with only `networkId` (the core checked it is a created network): the server is on it, even before
    // nova lists its addresses.
    if (existing) return this.toInstance(existing, spec.zone, spec.networkId);
    const metadata = { ...checkTags(spec.tags, 'tags'), [CLIENT_TOKEN_KEY]: token };
    const id = await this.nova
      .createServer({
        name: spec.name,
        flavorRef: spec.flavorId,
        imageRef: spec.imageId,
        metadata,
        networks:
          spec.networkId !== undefined
            ? [{ uuid: spec.networkId }]
            : this.settings.network === 'none'
              ? 'none'
              : [{ uuid: await this.networkId() }],
        ...(spec.zone !== undefined && { availability_zone: spec.zone }),
        ...(spec.userData !== undefined && { user_data: Buffer.from(spec.userData, 'utf8').toString('base64') }),
        ...(spec.keyName !== undefined && { key_name: spec.keyName }),
      })
      .catch((e) => Promise.reject(withField(e, spec.networkId !== undefined)));
    return this.toInstance(await this.nova.getServer(id), spec.zone, spec.networkId);
  }

  /**
   * Starting a server that runs (or is starting) changes nothing, as on EC2 and the sim. A suspended server is
   * resumed (nova refuses os-start on it), so the one port call covers both.
   */
  async startInstance(id: string): Promise<void> {
    const { state } = await this.getInstance(id);
    const body = state === 'suspended' ? { resume: null } : { 'os-start': null };
    await this.action(id, body, ['running', 'pending']);
  }

  /** Nova's suspend (memory to disk on the host); suspending a suspended server changes nothing. */
  async suspendInstance(id: string): Promise<void> {
    await this.action(id, { suspend: null }, ['suspended', 'suspending']);
  }

  async stopInstance(id: string): Promise<void> {
    await this.action(id, { 'os-stop': null }, ['stopped', 'stopping']);
  }

  async rebootInstance(id: string): Promise<void> {
    await this.action(id, { reboot: { type: 'SOFT' } }, ['rebooting']);
  }

  /** Deleting a server nova no longer knows is done already (a resumed delete step repeats it). */
  async deleteInstance(id: string): Promise<void> {
    await ignoreNotFound(this.nova.deleteServer(id));
  }

  /** A server is renamed in nova, a volume in cinder (`PUT /volumes/{id}`); both take the new name at once. */
  async rename(kind: RenamableKind, id: string, name: string): Promise<void> {
    if (kind === 'volume') await this.cinder.renameVolume(id, name);
    else await this.nova.renameServer(id, name);
  }

  /**
   * Instance tags are nova server metadata, replaced whole (the client token is kept). Nova refuses metadata
   * changes while a server is being built, so this waits (briefly) for the build to end. Images, volumes and
   * snapshots are not retagged yet.
   */
  async setTags(kind: TaggableKind, id: string, tags: Tags): Promise<void> {
    if (kind !== 'instance') {
      throw new SkygateError('unsupported', `provider '${this.providerId}' cannot change tags of ${kind}s yet`, {
        field: 'kind',
        provider: this.providerId,
      });
    }
    const checked = checkTags(tags, 'tags');
    const deadline = Date.now() + this.settings.requestTimeoutMs;
    for (let delay = 200; ; delay = Math.min(2000, delay * 2)) {
      const server = await this.nova.getServer(id);
      const token = server.metadata?.[CLIENT_TOKEN_KEY];
      try {
        return await this.nova.setMetadata(id, { ...checked, ...(token !== undefined && { [CLIENT_TOKEN_KEY]: token }) });
      } catch (e) {
        if (!isSkygateError(e) || e.code !== 'conflict' || !/building/.test(e.message) || Date.now() > deadline) throw e;
        await sleep(delay);
      }
    }
  }

  // ---- images (glance) ----

  async listImages(page: PageRequest = {}): Promise<NativePage<NativeImage>> {
    if (!(await this.offers('image'))) return { items: [] };
    const { images, more } = await this.glance.listImages({ limit: page.limit, marker: page.marker });
    return { items: images.map((i) => this.toImage(i)), ...(more && images.length > 0 && { marker: images.at(-1)?.id }) };
  }

  async getImage(id: string): Promise<NativeImage> {
    return this.toImage(await this.glance.getImage(id));
  }

  async createImageFromInstance(instanceId: string, spec: CreateImageSpec): Promise<NativeImage> {
    const token = tokenValue(spec.clientToken);
    const existing = await this.findImage(token);
    if (existing) return this.toImage(existing);
    const imageId = await this.nova.createImage(instanceId, spec.name, { ...imageTags(spec.tags), [CLIENT_TOKEN_KEY]: token });
    return this.toImage(await this.glance.getImage(imageId));
  }

  async deleteImage(id: string): Promise<void> {
    await ignoreNotFound(this.glance.deleteImage(id));
  }

  /** Streams the image out, checking the bytes against glance's own hash of them as they pass. */
  async downloadImage(id: string): Promise<{ stream: Readable; sizeBytes: number; diskFormat: NativeImage['diskFormat'] }> {
    const image = await this.glance.getImage(id);
    if (image.status !== 'active')
      throw conflict(`image '${id}' is ${image.status}: glance has no data for it until it is active`);
    const stream = verified(await this.glance.download(id), image, this.providerId);
    return { stream, sizeBytes: image.size ?? 0, diskFormat: toDiskFormat(image.disk_format) };
  }

  /**
   * Creates a glance image and streams `data` into it with constant memory. A repeated call with the
   * same client token answers the first image (re-using a record whose upload never happened).
   */
  async uploadImage(spec: UploadImageSpec, data: Readable): Promise<NativeImage> {
    const token = tokenValue(spec.clientToken);
    let image = await this.findImage(token);
    if (image && image.status !== 'queued' && image.status !== 'killed') {
      data.destroy();
      return this.toImage(image);
    }
    if (image?.status === 'killed') await ignoreNotFound(this.glance.deleteImage(image.id));
    if (!image || image.status === 'killed') {
      image = await this.glance.createImage({
        name: spec.name,
        disk_format: spec.diskFormat,
        container_format: spec.diskFormat === 'ami' ? 'ami' : 'bare',
        visibility: 'private',
        ...(spec.minDiskGiB !== undefined && { min_disk: spec.minDiskGiB }),
        ...(spec.os !== undefined && { os_distro: spec.os }),
        ...imageTags(spec.tags),
        [CLIENT_TOKEN_KEY]: token,
      });
    }
    const id = image.id;
    const seen = { bytes: 0, md5: createHash('md5') };
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen.md5.update(chunk);
        seen.bytes += chunk.length;
        cb(null, chunk);
      },
    });
    const discard = async (err: SkygateError): Promise<never> => {
      await ignoreNotFound(this.glance.deleteImage(id)).catch(() => undefined);
      throw err;
    };
    // The upload cannot be replayed, so start it with a token that is far from expiry.
    await this.keystone.token();
    try {
      data.once('error', (e) => counted.destroy(e));
      await this.glance.upload(id, data.pipe(counted));
    } catch (e) {
      data.destroy();
      return discard(toSkygateError(e, this.providerId));
    }
    if (spec.sizeBytes !== undefined && seen.bytes !== spec.sizeBytes) {
      return discard(invalid('sizeBytes', `says ${spec.sizeBytes} bytes but the stream held ${seen.bytes}`));
    }
    const stored = await this.glance.getImage(id);
    if (stored.size !== seen.bytes || (stored.checksum && stored.checksum !== seen.md5.digest('hex'))) {
      return discard(
        new SkygateError(
          'provider_unavailable',
          `glance stored ${stored.size} bytes (md5 ${stored.checksum}) of the ${seen.bytes} sent to image '${id}'`,
          { provider: this.providerId },
        ),
      );
    }
    return this.toImage(stored);
  }

  // ---- block storage (cinder) ----

  async listSnapshots(page: PageRequest = {}): Promise<NativePage<NativeSnapshot>> {
    if (!(await this.offers('block-storage'))) return { items: [] };
    const { snapshots, more } = await this.cinder.listSnapshots({ limit: page.limit, marker: page.marker });
    return {
      items: snapshots.map((s) => this.toSnapshot(s)),
      ...(more && snapshots.length > 0 && { marker: snapshots.at(-1)?.id }),
    };
  }

  async getSnapshot(id: string): Promise<NativeSnapshot> {
    return this.toSnapshot(await this.cinder.getSnapshot(id));
  }

  async createSnapshot(volumeId: string, spec: CreateSnapshotSpec): Promise<NativeSnapshot> {
    const token = tokenValue(spec.clientToken);
    const { snapshots } = await this.cinder.listSnapshots({ metadata: { [CLIENT_TOKEN_KEY]: token } });
    const existing = snapshots.find((s) => s.metadata[CLIENT_TOKEN_KEY] === token);
    if (existing) return this.toSnapshot(existing);
    const created = await this.cinder.createSnapshot({
      volume_id: volumeId,
      name: spec.name,
      metadata: { ...checkTags(spec.tags, 'tags'), [CLIENT_TOKEN_KEY]: token },
    });
    return this.toSnapshot(created);
  }

  async deleteSnapshot(id: string): Promise<void> {
    await ignoreNotFound(this.cinder.deleteSnapshot(id));
  }

  async listVolumes(page: PageRequest = {}): Promise<NativePage<NativeVolume>> {
    if (!(await this.offers('block-storage'))) return { items: [] };
    const { volumes, more } = await this.cinder.listVolumes({ limit: page.limit, marker: page.marker });
    return { items: volumes.map((v) => this.toVolume(v)), ...(more && volumes.length > 0 && { marker: volumes.at(-1)?.id }) };
  }

  async getVolume(id: string): Promise<NativeVolume> {
    return this.toVolume(await this.cinder.getVolume(id));
  }

  async createVolume(spec: CreateVolumeSpec): Promise<NativeVolume> {
    const token = tokenValue(spec.clientToken);
    const { volumes } = await this.cinder.listVolumes({ metadata: { [CLIENT_TOKEN_KEY]: token } });
    const existing = volumes.find((v) => v.metadata[CLIENT_TOKEN_KEY] === token);
    if (existing) return this.toVolume(existing);
    const created = await this.cinder.createVolume({
      name: spec.name,
      size: spec.sizeGiB,
      metadata: { ...checkTags(spec.tags, 'tags'), [CLIENT_TOKEN_KEY]: token },
      ...(spec.zone !== undefined && { availability_zone: spec.zone }),
      ...(spec.snapshotId !== undefined && { snapshot_id: spec.snapshotId }),
    });
    return this.toVolume(created);
  }

  /** Through nova, which drives cinder's attachment; already attached to that server is done. */
  async attachVolume(volumeId: string, instanceId: string, device?: string): Promise<void> {
    const volume = await this.cinder.getVolume(volumeId);
    if (volume.attachments.some((a) => a.server_id === instanceId)) return;
    await this.nova.attachVolume(instanceId, volumeId, device);
  }

  /** Detaches from every server cinder has an attachment for; none left is done (a resumed step repeats it). */
  async detachVolume(volumeId: string): Promise<void> {
    const attachments = await this.cinder.listAttachments(volumeId);
    const servers = new Set(attachments.map((a) => a.instance).filter((s): s is string => typeof s === 'string'));
    for (const server of servers) await ignoreNotFound(this.nova.detachVolume(server, volumeId));
  }

  async deleteVolume(id: string): Promise<void> {
    await ignoreNotFound(this.cinder.deleteVolume(id));
  }

  // ---- networks (neutron): a network plus one IPv4 subnet, see openstack-networks.ts ----

  async createNetwork(spec: CreateNetworkSpec): Promise<NativeNetwork> {
    return this.networks.create(spec, checkNetworkPlan(spec.cidr, spec.gateway));
  }

  async listNetworks(): Promise<NativeNetwork[]> {
    if (!(await this.offers('network'))) return [];
    return this.networks.list();
  }

  async deleteNetwork(id: string): Promise<void> {
    await this.networks.delete(id);
  }

  async updateNetwork(id: string, change: { name?: string; tags?: Tags }): Promise<NativeNetwork> {
    return this.networks.update(id, change);
  }

  // ---- private: lookups ----

  /** Whether the catalog has `service`; a list of a service the cloud does not offer is empty, not an error. */
  private async offers(service: ServiceKey): Promise<boolean> {
    await this.keystone.token();
    return this.keystone.services()?.has(service) ?? false;
  }

  /**
   * The servers deleted within the retention, as terminated instances, in pages by id after the live
   * ones: nova is asked on the first such page, later pages read what it answered.
   */
  private async listDeletedInstances(page: PageRequest, after: string): Promise<NativePage<NativeInstance>> {
    const all = after === '' ? await this.recentlyDeleted() : [...this.deleted.values()];
    const next = all.filter((s) => s.id > after).sort((a, b) => (a.id < b.id ? -1 : 1));
    const servers = page.limit === undefined ? next : next.slice(0, page.limit);
    const items = await Promise.all(servers.map((s) => this.toInstance(s)));
    return { items, ...(servers.length < next.length && { marker: `${DELETED_PHASE}${servers.at(-1)?.id}` }) };
  }

  /** Server `id` if nova deleted it within the retention. */
  private async deletedServer(id: string): Promise<NovaServer | undefined> {
    if (this.settings.terminatedRetentionMs === 0) return undefined;
    return (await this.recentlyDeleted()).find((s) => s.id === id);
  }

  /**
   * The servers nova deleted within the retention. Nova shows them to a non-admin only in `changes-since`
   * listings, which also hold every live server changed since: so only the changes since the last look are
   * asked for (with a minute of overlap for clock skew and nova's whole-second times), and the deleted
   * servers seen are kept here until they leave the window. A deleted server never changes again.
   */
  private async recentlyDeleted(): Promise<NovaServer[]> {
    const now = Date.now();
    const windowStart = now - this.settings.terminatedRetentionMs;
    const since = Math.max(windowStart, this.deletedSeenUntil - 60_000);
    let marker: string | undefined;
    for (;;) {
      const { servers, more } = await this.nova.listServers({ limit: 1000, marker, changesSince: isoSeconds(since) });
      for (const s of servers) if (s.status === 'DELETED') this.deleted.set(s.id, s);
      if (!more || servers.length === 0) break;
      marker = servers.at(-1)?.id;
    }
    this.deletedSeenUntil = now;
    for (const [id, s] of this.deleted) if (Date.parse(s.updated ?? s.created) < windowStart) this.deleted.delete(id);
    return [...this.deleted.values()];
  }

  /** A server created earlier with this client token: nova filters by name (a regex), skygate by the token. */
  private async findServer(name: string, token: string): Promise<NovaServer | undefined> {
    let marker: string | undefined;
    for (;;) {
      const { servers, more } = await this.nova.listServers({ name: `^${escapeRegex(name)}$`, limit: 1000, marker });
      const hit = servers.find((s) => s.metadata?.[CLIENT_TOKEN_KEY] === token);
      if (hit || !more || servers.length === 0) return hit;
      marker = servers.at(-1)?.id;
    }
  }

  /** An image created earlier with this client token (glance filters on custom properties). */
  private async findImage(token: string): Promise<GlanceImage | undefined> {
    const { images } = await this.glance.listImages({ filters: { [CLIENT_TOKEN_KEY]: token } });
    return images.find((i) => i[CLIENT_TOKEN_KEY] === token);
  }

  /** The created network of each server (see OpenStackNetworks.createdNetworksOf); none without neutron. */
  private async createdNetworksOf(servers: NovaServer[]): Promise<Map<string, string>> {
    if (!(await this.offers('network'))) return new Map();
    return this.networks.createdNetworksOf(servers);
  }

  private networkId(): Promise<string> {
    this.network ??= this.neutron.networkId(this.settings.network).catch((e) => {
      this.network = undefined;
      throw e;
    });
    return this.network;
  }

  private async flavorIdByName(name: string | undefined): Promise<string> {
    if (name === undefined) return '';
    return (await this.nova.listFlavors()).find((f) => f.name === name)?.id ?? name;
  }

  // ---- private: converters from OpenStack's records ----

  /** `networkId`: the created network the server is on, if any (neutron tells, not the server record). */
  private async toInstance(s: NovaServer, requestedZone?: string, networkId?: string): Promise<NativeInstance> {
    const addresses = Object.values(s.addresses ?? {}).flat();
    const privateIp = addresses.find((a) => a['OS-EXT-IPS:type'] !== 'floating')?.addr;
    const publicIp = addresses.find((a) => a['OS-EXT-IPS:type'] === 'floating')?.addr;
    // Until the scheduler places a server its zone is blank; it lands in the one asked for, or nova's default.
    const zone = s['OS-EXT-AZ:availability_zone'] || requestedZone || (await this.zones().catch(() => []))[0] || 'nova';
    return {
      nativeId: s.id,
      name: s.name,
      state: instanceState(s),
      // from microversion 2.47 on nova embeds the flavor and names it only by its original name
      flavorId: s.flavor.id ?? (await this.flavorIdByName(s.flavor.original_name)),
      imageId: s.image === '' ? '' : s.image.id,
      zone,
      ...(privateIp !== undefined && { privateIp }),
      ...(publicIp !== undefined && { publicIp }),
      ...(networkId !== undefined && { networkId }),
      tags: withoutToken(s.metadata ?? {}),
      createdAt: isoTime(s.created),
    };
  }

  private toImage(i: GlanceImage): NativeImage {
    const tags: Tags = {};
    for (const [k, v] of Object.entries(i)) {
      if (k.startsWith(IMAGE_TAG_PREFIX) && typeof v === 'string') tags[k.slice(IMAGE_TAG_PREFIX.length)] = v;
    }
    return {
      nativeId: i.id,
      name: i.name ?? '',
      state: IMAGE_STATES[i.status] ?? 'pending',
      sizeBytes: i.size ?? 0,
      diskFormat: toDiskFormat(i.disk_format),
      minDiskGiB: i.min_disk ?? 0,
      ...(typeof i.os_distro === 'string' && { os: i.os_distro }),
      ...(typeof i.instance_uuid === 'string' && { sourceInstanceId: i.instance_uuid }),
      tags,
      createdAt: isoTime(i.created_at),
    };
  }

  private toVolume(v: CinderVolume): NativeVolume {
    const attachment = v.attachments[0];
    return {
      nativeId: v.id,
      name: v.name ?? '',
      state: volumeState(v),
      sizeGiB: v.size,
      zone: v.availability_zone,
      ...(attachment && { attachedTo: attachment.server_id }),
      ...(attachment?.device && { device: attachment.device }),
      ...(v.snapshot_id && { snapshotId: v.snapshot_id }),
      tags: withoutToken(v.metadata),
      createdAt: isoTime(v.created_at),
    };
  }

  private toSnapshot(s: CinderSnapshot): NativeSnapshot {
    return {
      nativeId: s.id,
      name: s.name ?? '',
      state: SNAPSHOT_STATES[s.status] ?? 'pending',
      volumeId: s.volume_id,
      sizeGiB: s.size,
      tags: withoutToken(s.metadata),
      createdAt: isoTime(s.created_at),
    };
  }

  /**
   * Runs a server action; a 409 is no error when the server is already in one of the states the action
   * leads to. A server deleted meanwhile (nova: 404, or a 409 while deleting) is terminated: a conflict.
   */
  private async action(id: string, body: Record<string, unknown>, already: InstanceState[]): Promise<void> {
    try {
      await this.nova.action(id, body);
    } catch (e) {
      if (!isSkygateError(e) || (e.code !== 'conflict' && e.code !== 'not_found')) throw e;
      const state = await this.getInstance(id).then(
        (i) => i.state,
        () => undefined,
      );
      if (state === 'terminated') throw conflict(`server '${id}' is terminated: nova deleted it`);
      if (e.code === 'not_found' || state === undefined || !already.includes(state)) throw e;
    }
  }
}

// ---- state maps ----

function instanceState(s: NovaServer): InstanceState {
  const task = s['OS-EXT-STS:task_state'] ?? '';
  if (s.status === 'DELETED' || s.status === 'SOFT_DELETED') return 'terminated';
  if (task === 'deleting' || task === 'soft-deleting') return 'terminating';
  switch (s.status) {
    case 'BUILD':
      return 'pending';
    case 'ACTIVE':
      if (task.startsWith('reboot')) return 'rebooting';
      if (task === 'suspending') return 'suspending';
      return task === 'powering-off' ? 'stopping' : 'running';
    case 'REBOOT':
    case 'HARD_REBOOT':
      return 'rebooting';
    case 'SHUTOFF':
      return task === 'powering-on' ? 'pending' : 'stopped';
    case 'SUSPENDED':
      return task === 'resuming' ? 'pending' : 'suspended';
    case 'PAUSED':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
      return 'stopped';
    case 'RESCUE':
      return 'running';
    case 'ERROR':
    case 'UNKNOWN':
      return 'error';
    default: // RESIZE, VERIFY_RESIZE, REVERT_RESIZE, MIGRATING, REBUILD, PASSWORD: busy, back soon
      return 'pending';
  }
}

const IMAGE_STATES: Record<string, ImageState> = {
  queued: 'pending',
  saving: 'pending',
  uploading: 'pending',
  importing: 'pending',
  active: 'available',
  killed: 'failed',
  deactivated: 'failed',
  pending_delete: 'deleted',
  deleted: 'deleted',
};

/** The model has no `deleting` for snapshots: an accepted delete reads as `deleted` until cinder forgets it. */
const SNAPSHOT_STATES: Record<string, SnapshotState> = {
  creating: 'pending',
  available: 'available',
  'backing-up': 'available',
  restoring: 'available',
  deleting: 'deleted',
  deleted: 'deleted',
  unmanaging: 'deleted',
  error: 'failed',
  error_deleting: 'failed',
};

function volumeState(v: CinderVolume): VolumeState {
  switch (v.status) {
    case 'creating':
    case 'downloading':
    case 'restoring-backup':
      return 'creating';
    case 'available':
    case 'in-use':
    case 'attaching':
    case 'detaching':
    case 'deleting':
      return v.status;
    case 'reserved':
      return 'attaching';
    default:
      if (v.status.startsWith('error')) return 'error';
      // uploading, backing-up, extending, retyping, maintenance: busy but intact
      return v.attachments.length > 0 ? 'in-use' : 'available';
  }
}

const DISK_FORMATS = new Set(['raw', 'qcow2', 'vmdk', 'vhd', 'ami']);
/** Formats outside the model (iso, vdi, vhdx, ploop, aki, ari) are reported as raw; their bytes stay as glance has them. */
const toDiskFormat = (f: string | null): NativeImage['diskFormat'] =>
  f !== null && DISK_FORMATS.has(f) ? (f as NativeImage['diskFormat']) : 'raw';

// ---- helpers ----

/** Metadata values are limited to 255 characters; longer tokens are hashed. */
const tokenValue = (token: string) =>
  token.length <= 255 ? token : `sha256:${createHash('sha256').update(token).digest('hex')}`;

function checkTags(tags: Tags | undefined, field: string): Tags {
  if (tags === undefined) return {};
  if (CLIENT_TOKEN_KEY in tags) throw invalid(`${field}.${CLIENT_TOKEN_KEY}`, 'is reserved for skygate');
  return tags;
}

const imageTags = (tags: Tags | undefined): Tags =>
  Object.fromEntries(Object.entries(checkTags(tags, 'tags')).map(([k, v]) => [IMAGE_TAG_PREFIX + k, v]));

const withoutToken = (metadata: Record<string, string>): Tags => {
  const { [CLIENT_TOKEN_KEY]: _, ...tags } = metadata;
  return tags;
};

/** Cinder writes UTC times without a zone (`2024-05-01T10:00:00.000000`); every time leaves here as ISO 8601 UTC. */
const isoTime = (t: string) => new Date(/(Z|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`).toISOString();

/** ISO 8601 without milliseconds, as nova's `changes-since` takes it. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function ignoreNotFound(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isSkygateError(e) || e.code !== 'not_found') throw e;
  }
}

/** Nova names the flavor, image or network it could not find; the error then names the input field too. */
function withField(e: unknown, network = false): unknown {
  if (!isSkygateError(e) || e.code !== 'invalid_input' || e.field !== undefined) return e;
  const field =
    network && /network/i.test(e.message)
      ? 'networkId'
      : /flavor/i.test(e.message)
        ? 'flavorId'
        : /image/i.test(e.message)
          ? 'imageId'
          : undefined;
  if (field === undefined) return e;
  return new SkygateError('invalid_input', e.message, {
    field,
    provider: e.provider,
    requestId: e.requestId,
    errors: [{ field, reason: e.message }],
  });
}

async function within<T>(ms: number, p: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SkygateError('timeout', message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Passes the download through, hashing it with glance's own algorithm (md5 `checksum` where that one
 * is unknown), and fails the stream at the end when bytes or hash differ from what glance recorded.
 */
function verified(source: Readable, image: GlanceImage, provider: string): Readable {
  const algo = image.os_hash_algo && getHashes().includes(image.os_hash_algo) ? image.os_hash_algo : 'md5';
  const want = algo === 'md5' ? image.checksum : image.os_hash_value;
  const hash = createHash(algo);
  let bytes = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      const got = hash.digest('hex');
      if ((image.size !== null && bytes !== image.size) || (want && got !== want)) {
        cb(
          new SkygateError(
            'provider_unavailable',
            `image '${image.id}' arrived as ${bytes} bytes with ${algo} ${got}; glance recorded ${image.size} bytes, ${want}`,
            { provider },
          ),
        );
      } else cb();
    },
  });
  source.on('error', (e) =>
    out.destroy(
      new SkygateError('provider_unavailable', `glance stopped sending image '${image.id}' after ${bytes} bytes: ${e.message}`, {
        provider,
        cause: e,
      }),
    ),
  );
  out.on('close', () => source.destroy());
  return source.pipe(out);
}
