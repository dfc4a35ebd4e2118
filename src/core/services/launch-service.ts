/**
 * Launching instances, decided once for every front (REST, EC2 RunInstances, OCCI): defaults, validation
 * of the whole batch before anything is written (a handful of provider calls however many instances),
 * then one `instance.create` operation that creates, waits and rolls back below the minimum count.
 */
import { SkygateError, invalid, toSkygateError } from '../errors.js';
import { parseId, parseRefIn } from '../ids.js';
import type { Instance, Operation, Tags } from '../model.js';
import type { CallerContext, OperationEngine } from '../operations/engine.js';
import { LAUNCH_KIND, type LaunchInput, launchedSoFar } from '../operations/launch-command.js';
import type { ProviderRegistry } from '../registry.js';
import type { InstanceAttributes } from '../store-port.js';
import { checkName } from '../name-policy.js';
import { checkTags } from '../tag-policy.js';
import { checkAttributes } from './instance-attributes.js';
import type { InventoryService } from './inventory.js';
import type { KeyPairService } from './key-pairs.js';
import type { NetworkService } from './network-service.js';

/** At most this many instances per launch (EC2's usual ceiling for one request). */
export const MAX_LAUNCH_COUNT = 100;

/** What a caller asks for. References may be skygate ids or native ids at `provider`. */
export interface LaunchRequest {
  provider: string;
  /** Defaults to the `Name` tag, else the image's name. */
  name?: string;
  /** Defaults to the provider's smallest flavor. */
  flavorId?: string;
  imageId: string;
  /** Launch at least this many, or none (default 1). */
  minCount?: number;
  /** Launch at most this many (default `minCount`). */
  maxCount?: number;
  zone?: string;
  /** A default subnet (skygate id): its zone is where the instances go. */
  subnetId?: string;
  keyName?: string;
  /** Cloud-init user data as text. */
  userData?: string;
  tags?: Tags;
  /** A network created beside the default one (skygate id, at `provider`); absent or the default network: the default. */
  network?: string;
  /** Security groups (skygate ids); only the default one exists for now. */
  securityGroups?: string[];
  attributes?: Pick<
    InstanceAttributes,
    'disableApiTermination' | 'instanceInitiatedShutdownBehavior' | 'ebsOptimized' | 'clientToken' | 'networkInterface'
  >;
}

/** EC2 takes user data up to 16 KiB before base64. */
const MAX_USER_DATA_BYTES = 16 * 1024;

export class LaunchService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly inventory: InventoryService,
    private readonly engine: OperationEngine,
    private readonly keyPairs: KeyPairService,
    private readonly network: NetworkService,
  ) {}

  /**
   * Validates the whole launch, then submits it as one operation. Field names are the REST body's
   * (`body.imageId`); other fronts map them onto their own parameters.
   */
  async launch(req: LaunchRequest, caller: CallerContext): Promise<Operation> {
    const minCount = req.minCount ?? 1;
    const maxCount = req.maxCount ?? minCount;
    for (const [field, n] of [
      ['body.minCount', minCount],
      ['body.maxCount', maxCount],
    ] as const) {
      if (!Number.isInteger(n) || n < 1 || n > MAX_LAUNCH_COUNT)
        throw invalid(field, `must be an integer from 1 to ${MAX_LAUNCH_COUNT}`);
    }
    if (minCount > maxCount) throw invalid('body.minCount', `the minimum (${minCount}) is more than the maximum (${maxCount})`);
    checkTags(req.tags, 'body.tags');
    // The instance is named by `name`, else by its Name tag: whichever names it follows the name policy.
    if (req.name !== undefined) checkName(req.name, 'body.name');
    else if (req.tags?.Name !== undefined) checkName(req.tags.Name, 'body.tags');
    const userData = req.userData;
    if (userData !== undefined && Buffer.byteLength(userData) > MAX_USER_DATA_BYTES) {
      throw invalid('body.userData', `must be at most ${MAX_USER_DATA_BYTES} bytes`);
    }
    const attributes: InstanceAttributes = {
      ...req.attributes,
      ...(req.keyName !== undefined && { keyName: req.keyName }),
      ...(userData !== undefined && { userData: Buffer.from(userData).toString('base64') }),
      ...(req.securityGroups !== undefined && req.securityGroups.length > 0 && { securityGroups: req.securityGroups }),
    };
    checkAttributes(attributes, 'body.');

    const adapter = this.registry.cloud(req.provider, 'body.provider');
    const imageId = parseRefIn(req.provider, req.imageId, 'body.imageId');
    const [image, flavorId, zone, , networkId] = await Promise.all([
      adapter.getImage(imageId).catch((e) => {
        throw this.missing(e, 'body.imageId', `image '${req.imageId}' does not exist at provider '${req.provider}'`);
      }),
      this.flavorOf(req),
      this.zoneOf(req),
      req.keyName !== undefined
        ? this.keyPairs.get(req.provider, req.keyName, 'body.keyName').catch((e) => {
            throw this.missing(e, 'body.keyName', `key pair '${req.keyName}' does not exist at provider '${req.provider}'`);
          })
        : undefined,
      this.networkOf(req),
      this.checkGroups(req),
    ]);
    if (image.state !== 'available') throw invalid('body.imageId', `image '${req.imageId}' is ${image.state}, not available`);

    const input: LaunchInput = {
      provider: req.provider,
      name: req.name ?? req.tags?.Name ?? image.name,
      flavorId,
      imageId,
      ...(zone !== undefined && { zone }),
      ...(req.keyName !== undefined && { keyName: req.keyName }),
      ...(userData !== undefined && { userData }),
      ...(networkId !== undefined && { networkId }),
      tags: req.tags ?? {},
      minCount,
      maxCount,
      attributes,
    };
    return this.engine.operation({
      kind: LAUNCH_KIND,
      provider: req.provider,
      input: input as unknown as Record<string, unknown>,
      state: {},
      caller,
    });
  }

  /**
   * Waits (at most `timeoutMs`) until every create of a launch has returned, for fronts that answer with
   * the new instances (EC2); answers them as recorded then. A launch that failed throws its error; one
   * still creating after the wait throws a retryable `timeout` (repeat with the same idempotency key).
   */
  async created(operationId: string, timeoutMs: number): Promise<{ operation: Operation; instances: Instance[] }> {
    const op = await this.engine.waitFor(operationId, (o) => launchedSoFar(o).launched, timeoutMs);
    if (!op) throw new SkygateError('not_found', `operation '${operationId}' does not exist`);
    if (op.status === 'failed' && op.error) throw SkygateError.from(op.error);
    const { ids, launched } = launchedSoFar(op);
    if (!launched && op.status !== 'succeeded') {
      throw new SkygateError('timeout', `the provider is still creating the instances (operation ${op.id}); repeat the request`, {
        provider: op.provider,
      });
    }
    const wanted = new Set(ids);
    const page = await this.inventory.list('instance', {
      providers: [op.provider ?? ''],
      where: (r) => wanted.has(r.id),
      limit: ids.length,
    });
    const byId = new Map(page.items.map((i) => [i.id, i]));
    const instances = await Promise.all(ids.map((id) => byId.get(id) ?? this.inventory.get('instance', id)));
    return { operation: op, instances };
  }

  /** The flavor asked for, or the smallest; read from the inventory (one listing per provider, cached). */
  private async flavorOf(req: LaunchRequest): Promise<string> {
    const flavors = (await this.inventory.list('flavor', { providers: [req.provider], limit: 100_000 })).items;
    if (req.flavorId === undefined) {
      const smallest = [...flavors].sort((a, b) => a.vcpus - b.vcpus || a.memoryMiB - b.memoryMiB)[0];
      if (!smallest) throw invalid('body.flavorId', `provider '${req.provider}' offers no flavor`);
      return smallest.nativeId;
    }
    const flavorId = parseRefIn(req.provider, req.flavorId, 'body.flavorId');
    if (!flavors.some((f) => f.nativeId === flavorId)) {
      // The cache may predate a new flavor: ask the provider before refusing.
      const live = await this.registry.cloud(req.provider, 'body.provider').listFlavors();
      if (!live.some((f) => f.nativeId === flavorId)) {
        throw invalid('body.flavorId', `flavor '${req.flavorId}' does not exist at provider '${req.provider}'`);
      }
    }
    return flavorId;
  }

  /** The zone asked for, or the one of the subnet asked for (they must agree). */
  private async zoneOf(req: LaunchRequest): Promise<string | undefined> {
    if (req.zone === undefined && req.subnetId === undefined) return undefined;
    const net = await this.network.defaults(req.provider);
    let zone = req.zone;
    if (req.subnetId !== undefined) {
      const subnet = net.subnets.find((s) => s.id === req.subnetId);
      if (!subnet) throw invalid('body.subnetId', `subnet '${req.subnetId}' does not exist at provider '${req.provider}'`);
      if (zone !== undefined && zone !== subnet.zone) {
        throw invalid('body.zone', `subnet '${req.subnetId}' is in zone ${subnet.zone}, not in ${zone}`);
      }
      zone = subnet.zone;
    }
    if (zone !== undefined && !net.subnets.some((s) => s.zone === zone)) {
      throw invalid('body.zone', `zone '${zone}' does not exist at provider '${req.provider}'`);
    }
    return zone;
  }

  /**
   * The native id of the created network asked for, checked once for the whole batch: it exists and is at the
   * launch's provider. The default network is what a launch gets anyway, so naming it is the same as naming none.
   */
  private async networkOf(req: LaunchRequest): Promise<string | undefined> {
    if (req.network === undefined) return undefined;
    if (typeof req.network !== 'string') throw invalid('body.network', 'must be a network id (providerId:nativeId)');
    if (this.network.isDefault(req.network)) return undefined;
    const ref = parseId(req.network, 'body.network');
    if (ref.provider !== req.provider) {
      throw invalid(
        'body.network',
        `network '${req.network}' is at provider '${ref.provider}', not at '${req.provider}' where the launch is`,
      );
    }
    const found = await this.network.get(req.network, 'body.network').catch((e) => {
      throw this.missing(e, 'body.network', `network '${req.network}' does not exist at provider '${req.provider}'`);
    });
    return found.nativeId;
  }

  private async checkGroups(req: LaunchRequest): Promise<void> {
    if (!req.securityGroups?.length) return;
    const net = await this.network.defaults(req.provider);
    for (const id of req.securityGroups) {
      if (id !== net.securityGroup.id) {
        throw invalid('body.securityGroups', `security group '${id}' does not exist at provider '${req.provider}'`);
      }
    }
  }

  /** A referenced resource's absence is the caller's bad input, not a 404 of the URL. */
  private missing(e: unknown, field: string, reason: string): SkygateError {
    const err = toSkygateError(e);
    return err.code === 'not_found' ? invalid(field, reason) : err;
  }
}
