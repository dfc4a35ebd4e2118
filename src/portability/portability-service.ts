/**
 * The image portability API every front calls: checks a request against what the providers hold and can
 * do (image exists and is available, download/upload capabilities, targets, URL policy, upload quota)
 * before answering 202, then hands the work to the export, import and replicate commands.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SkygateError, conflict, invalid, notFound } from '../core/errors.js';
import { closestFlavor } from '../core/flavor-match.js';
import { parseId } from '../core/ids.js';
import { checkName } from '../core/name-policy.js';
import type { Image, Operation, Tags } from '../core/model.js';
import type { OperationEngine } from '../core/operations/engine.js';
import type { CloudAdapter } from '../core/ports.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { InventoryService } from '../core/services/inventory.js';
import type { CallerContext } from '../core/services/resource-service.js';
import type { PortabilityDeps } from './commands/common.js';
import { EXPORT_KIND, type ExportInput, ovaPathOf } from './commands/export-image-command.js';
import { type PackageMeta, fileStem } from './commands/export-pipeline.js';
import { IMPORT_KIND, type ImportInput } from './commands/import-image-command.js';
import { receiveFresh } from './commands/import-pipeline.js';
import { REPLICATE_KIND, type ReplicateInput, type ReplicatePlan } from './commands/replicate-image-command.js';
import { type PortableFormat, qemuFormatOfImage, uploadFormatFor } from './disk-formats.js';
import { type OvfWriteVersion, checkDescribableName } from './ovf-build.js';
import { type ReplicationMethod, copySourceOf, replicationMethod } from './replication-method.js';

export interface ExportRequest {
  diskFormat?: PortableFormat;
  ovfVersion?: OvfWriteVersion;
  destination?: 'download' | 'export-dir';
  /** The hardware to declare; by default the source instance's flavor, else the provider's smallest fitting one. */
  hardware?: { vcpus: number; memoryMiB: number };
}

export interface ImportRequest {
  provider: string;
  name?: string;
  diskFormat?: PortableFormat;
  tags?: Tags;
}

export interface ReplicateRequest {
  targets: string[];
  diskFormat?: PortableFormat;
}

const PORTABILITY_KINDS = new Set([EXPORT_KIND, IMPORT_KIND, REPLICATE_KIND]);

export class PortabilityService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly inventory: InventoryService,
    private readonly engine: OperationEngine,
    private readonly deps: PortabilityDeps,
  ) {}

  /** Removes scratch directories left by a previous process, except those its unfinished operations resume with. */
  async init(): Promise<void> {
    const unfinished = (await this.engine.list({ status: ['pending', 'running'], limit: 10_000 })).filter((op) =>
      PORTABILITY_KINDS.has(op.kind),
    );
    const keep = new Set(
      unfinished.map((op) => (typeof op.state.workDir === 'string' ? op.state.workDir : this.deps.dirs.forOperation(op.id))),
    );
    await this.deps.dirs.sweep(keep);
  }

  async exportImage(id: string, req: ExportRequest, caller: CallerContext): Promise<Operation> {
    const { image, adapter } = await this.downloadable(id, 'path.id');
    const destination = req.destination ?? 'download';
    if (destination === 'export-dir' && this.deps.exportDir === undefined) {
      throw invalid('body.destination', 'no export directory is configured (portability.exportDir / SKYGATE_EXPORT_DIR)');
    }
    const input: ExportInput = {
      imageId: image.id,
      diskFormat: req.diskFormat ?? 'vmdk',
      ovfVersion: req.ovfVersion ?? '1.0',
      destination,
    };
    const meta = await this.packageMeta(image, adapter, req.hardware);
    return this.engine.operation({
      kind: EXPORT_KIND,
      provider: image.provider,
      target: image.id,
      input: { ...input, ...(req.hardware && { hardware: req.hardware }) },
      state: { nativeId: image.nativeId, meta },
      caller,
    });
  }

  /** The finished OVA of export operation `opId` of image `imageId`. */
  async exportedFile(imageId: string, opId: string): Promise<{ path: string; fileName: string; sizeBytes: number }> {
    const op = await this.engine.get(opId);
    if (!op || op.kind !== EXPORT_KIND || (op.input as unknown as ExportInput).imageId !== imageId) {
      throw notFound('export', opId, 'path.operationId');
    }
    if (op.status !== 'succeeded')
      throw conflict(`export ${opId} is ${op.status}; its OVA is there once it succeeded`, 'path.operationId');
    const path = ovaPathOf(this.deps, op);
    const s = await stat(path).catch(() => undefined);
    if (!s) throw notFound('OVA of export', opId, 'path.operationId');
    return { path, fileName: `${fileStem((op.state.meta as PackageMeta).name)}.ova`, sizeBytes: s.size };
  }

  async importFromUrl(req: ImportRequest & { url: string }, caller: CallerContext): Promise<Operation> {
    this.uploadable(req.provider, 'body.provider');
    if (req.name !== undefined) checkName(req.name, 'body.name');
    await this.deps.urlPolicy.check(req.url, 'body.url');
    const input: ImportInput = { ...req };
    return this.engine.operation({ kind: IMPORT_KIND, provider: req.provider, input: { ...input }, state: {}, caller });
  }

  /** Checks an upload's target and declared size before any byte is read. */
  checkUpload(req: ImportRequest, contentLength: number | undefined): void {
    this.uploadable(req.provider, 'query.provider');
    if (req.name !== undefined) checkName(req.name, 'query.name');
    if (contentLength !== undefined && contentLength > this.deps.uploadMaxBytes) {
      throw new SkygateError(
        'payload_too_large',
        `the upload is ${contentLength} bytes, more than the ${this.deps.uploadMaxBytes} accepted (portability.uploadMaxBytes)`,
        { field: 'body' },
      );
    }
  }

  /**
   * Receives an uploaded OVA: unpacked and validated as it streams in (manifest, references, sizes, quota),
   * then imported by an operation. Any failure removes what was received.
   */
  async importUpload(
    req: ImportRequest,
    body: Readable,
    contentLength: number | undefined,
    caller: CallerContext,
  ): Promise<Operation> {
    this.checkUpload(req, contentLength);
    const { dir, pkg } = await receiveFresh(this.deps.dirs, body, {
      maxBytes: this.deps.uploadMaxBytes,
      maxVirtualBytes: this.deps.virtualSizeMaxBytes,
      limitField: 'body',
    });
    try {
      const input: ImportInput = { ...req };
      const op = await this.engine.operation({
        kind: IMPORT_KIND,
        provider: req.provider,
        input: { ...input, upload: { descriptorSha256: pkg.descriptorSha256 } },
        state: { workDir: dir, package: pkg },
        caller,
      });
      // A retried upload with the same Idempotency-Key answers the first operation; this copy is not needed.
      if (op.state.workDir !== dir) await this.deps.dirs.remove(dir);
      return op;
    } catch (e) {
      await this.deps.dirs.remove(dir);
      throw e;
    }
  }

  async replicateImage(id: string, req: ReplicateRequest, caller: CallerContext): Promise<Operation> {
    const image = await this.inventory.get('image', id);
    const adapter = this.registry.cloud(image.provider, 'path.id');
    if (image.state !== 'available') throw conflict(`image '${id}' is ${image.state}, not available`, 'path.id');
    const source = await this.registry.describe(image.provider);
    const methods: Record<string, ReplicationMethod> = {};
    for (const [i, target] of req.targets.entries()) {
      const field = `body.targets[${i}]`;
      if (target === image.provider) throw invalid(field, `'${target}' is the image's own provider`);
      if (methods[target] !== undefined) throw invalid(field, `'${target}' is listed twice`);
      const targetAdapter = this.registry.cloud(target, field);
      const targetType = (await this.registry.describe(target, field)).type;
      methods[target] = replicationMethod({ type: source.type, adapter }, { type: targetType, adapter: targetAdapter }, field);
    }
    if (Object.values(methods).includes('ova')) await this.downloadable(id, 'path.id');
    const plan: ReplicatePlan = {
      methods,
      ...copySourceOf(adapter),
      meta: await this.packageMeta(image, adapter),
      tags: { ...image.tags, 'skygate.replicaOf': image.id },
    };
    const input: ReplicateInput = {
      imageId: image.id,
      targets: req.targets,
      // A replica keeps the source's format unless asked otherwise: it should look like the original.
      diskFormat: req.diskFormat ?? uploadFormatFor(qemuFormatOfImage(image.diskFormat) ?? 'raw'),
    };
    return this.engine.operation({
      kind: REPLICATE_KIND,
      provider: image.provider,
      target: image.id,
      input: { ...input },
      state: { nativeId: image.nativeId, plan },
      caller,
    });
  }

  /** An available image whose bytes its provider lets out, in a format qemu-img reads. */
  private async downloadable(id: string, field: string): Promise<{ image: Image; adapter: CloudAdapter }> {
    const image = await this.inventory.get('image', id, field);
    const adapter = this.registry.cloud(image.provider, field);
    if (!adapter.capabilities().imageDownload || !adapter.downloadImage) {
      throw new SkygateError(
        'unsupported',
        `provider '${image.provider}' does not let image bytes out (capability imageDownload)`,
        { field },
      );
    }
    if (image.state !== 'available') throw conflict(`image '${id}' is ${image.state}, not available`, field);
    checkDescribableName(image.name, `image '${id}'`, field);
    if (!qemuFormatOfImage(image.diskFormat)) {
      throw new SkygateError('unsupported', `image '${id}' is in ${image.diskFormat} format, which skygate cannot convert`, {
        field,
      });
    }
    return { image, adapter };
  }

  private uploadable(provider: string, field: string): CloudAdapter {
    const adapter = this.registry.cloud(provider, field);
    if (!adapter.capabilities().imageUpload || !adapter.uploadImage) {
      throw new SkygateError('unsupported', `provider '${provider}' does not take image bytes in (capability imageUpload)`, {
        field,
      });
    }
    return adapter;
  }

  /** The hardware an exported envelope declares: asked for, else the source instance's flavor, else the smallest that fits. */
  private async packageMeta(
    image: Image,
    adapter: CloudAdapter,
    asked?: { vcpus: number; memoryMiB: number },
  ): Promise<PackageMeta & { hardwareFrom: string }> {
    const base = {
      name: image.name,
      ...(image.os !== undefined && { os: image.os }),
      ovfVersion: '1.0' as const,
      sourceImageId: image.id,
    };
    if (asked) return { ...base, ...asked, hardwareFrom: 'request' };
    const flavors = await adapter.listFlavors();
    if (image.sourceInstanceId !== undefined) {
      const instance = await adapter
        .getInstance(parseId(image.sourceInstanceId, 'sourceInstanceId').nativeId)
        .catch(() => undefined);
      const flavor = flavors.find((f) => f.nativeId === instance?.flavorId);
      if (flavor) return { ...base, vcpus: flavor.vcpus, memoryMiB: flavor.memoryMiB, hardwareFrom: 'source-instance' };
    }
    const smallest = closestFlavor({ vcpus: 1, memoryMiB: 0, diskGiB: image.minDiskGiB }, flavors);
    if (smallest)
      return { ...base, vcpus: smallest.flavor.vcpus, memoryMiB: smallest.flavor.memoryMiB, hardwareFrom: 'smallest-flavor' };
    return { ...base, vcpus: 1, memoryMiB: 1024, hardwareFrom: 'default' };
  }
}
