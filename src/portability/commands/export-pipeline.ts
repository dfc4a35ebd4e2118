/**
 * The export half of the OVA pipeline, shared by export and replication: disk out of the provider,
 * converted by qemu-img, checksummed, packaged with its descriptor and manifest. Every stage writes
 * `<file>.part` and renames, so a resumed step finds either nothing or a finished file.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SkygateError } from '../../core/errors.js';
import type { CloudAdapter } from '../../core/ports.js';
import { type PortableFormat, type QemuFormat, extensionOf, qemuFormatOfImage } from '../disk-formats.js';
import { formatManifest } from '../manifest.js';
import { buildDescriptor, type OvfWriteVersion } from '../ovf-build.js';
import { writeOva } from '../ova-write.js';
import { qemuConvert, qemuInfo } from '../qemu-img.js';
import { fileDigest, writeSparse } from '../streams.js';
import { type Reporter, mib } from './common.js';

export interface DiskFile {
  path: string;
  format: QemuFormat;
  sizeBytes: number;
}

export interface ConvertedDisk extends DiskFile {
  format: PortableFormat;
  capacityBytes: number;
  sha256?: string;
}

export interface PackageMeta {
  name: string;
  os?: string;
  vcpus: number;
  memoryMiB: number;
  ovfVersion: OvfWriteVersion;
  sourceImageId: string;
}

const exists = (path: string) =>
  stat(path).then(
    (s) => s,
    () => undefined,
  );

/** Streams the image's disk out of the provider into `dir`, keeping holes as holes. */
export async function downloadDisk(adapter: CloudAdapter, nativeId: string, dir: string, report: Reporter): Promise<DiskFile> {
  if (!adapter.downloadImage) throw new SkygateError('unsupported', `provider '${adapter.providerId}' cannot export image bytes`);
  const { stream, sizeBytes, diskFormat } = await adapter.downloadImage(nativeId);
  const format = qemuFormatOfImage(diskFormat);
  if (!format) {
    stream.destroy();
    throw new SkygateError('unsupported', `image ${nativeId} is in ${diskFormat} format, which skygate cannot convert`);
  }
  const path = join(dir, `source.${extensionOf(format)}`);
  const written = await writeSparse(stream, `${path}.part`, (n) =>
    report(`downloading: ${mib(n)} of ${mib(sizeBytes)}`, sizeBytes > 0 ? n / sizeBytes : undefined),
  );
  if (written !== sizeBytes) {
    throw new SkygateError(
      'provider_unavailable',
      `the download of image ${nativeId} ended after ${written} of ${sizeBytes} bytes`,
      {
        provider: adapter.providerId,
      },
    );
  }
  await rename(`${path}.part`, path);
  return { path, format, sizeBytes };
}

/**
 * Converts `src` into `format` as `<dir>/disk.<ext>`. A raw or qcow2 source already in the asked format is
 * moved rather than rewritten; a VMDK is always rewritten, as streamOptimized.
 */
export async function convertDisk(src: DiskFile, format: PortableFormat, dir: string, report: Reporter): Promise<ConvertedDisk> {
  const path = join(dir, `disk.${extensionOf(format)}`);
  if (!(await exists(path))) {
    if (src.format === format && format !== 'vmdk') await rename(src.path, path);
    else {
      await qemuConvert(src, { path: `${path}.part`, format }, (f) => report(`converting ${src.format} to ${format}`, f));
      await rename(`${path}.part`, path);
    }
  }
  await rm(src.path, { force: true });
  const info = await qemuInfo(path, format, 'disk');
  const { size } = (await exists(path)) as { size: number };
  return { path, format, sizeBytes: size, capacityBytes: info.virtualSize };
}

export async function checksum(disk: ConvertedDisk): Promise<ConvertedDisk> {
  return { ...disk, sha256: await fileDigest(disk.path) };
}

/** A file name stem from an image name: letters, digits, `._-`, at most 60 characters (tar's ustar keeps 100). */
export const fileStem = (name: string): string =>
  name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+/, '')
    .slice(0, 60) || 'image';

/** Writes the OVA (descriptor, SHA-256 manifest, disk) to `out`. */
export async function packageOva(
  meta: PackageMeta,
  disk: ConvertedDisk,
  out: string,
  report: Reporter,
): Promise<{ sizeBytes: number }> {
  if (!disk.sha256) throw new SkygateError('internal', 'packageOva: the disk has not been checksummed');
  const stem = fileStem(meta.name);
  const diskName = `${stem}-disk1.${extensionOf(disk.format)}`;
  const descriptor = buildDescriptor({
    version: meta.ovfVersion,
    name: meta.name,
    ...(meta.os !== undefined && { os: meta.os }),
    vcpus: meta.vcpus,
    memoryMiB: meta.memoryMiB,
    disk: { href: diskName, sizeBytes: disk.sizeBytes, capacityBytes: disk.capacityBytes, format: disk.format },
    product: { product: meta.name, vendor: 'skygate', properties: { 'skygate.sourceImageId': meta.sourceImageId } },
  });
  const manifest = formatManifest('sha256', [
    [`${stem}.ovf`, createHash('sha256').update(descriptor).digest('hex')],
    [diskName, disk.sha256],
  ]);
  await writeOva(
    createWriteStream(`${out}.part`),
    {
      descriptor: { name: `${stem}.ovf`, text: descriptor },
      manifest: { name: `${stem}.mf`, text: manifest },
      files: [{ name: diskName, path: disk.path, size: disk.sizeBytes }],
    },
    (n) => report(`packaging: ${mib(n)} of ${mib(disk.sizeBytes)}`, n / Math.max(1, disk.sizeBytes)),
  );
  await rename(`${out}.part`, out);
  return { sizeBytes: (await stat(out)).size };
}
