/** Builds OVA archives for tests with tar-stream, good or deliberately broken. */
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import tar from 'tar-stream';
import { type DescriptorInput, buildDescriptor } from '../../src/portability/ovf-build.js';

export interface Member {
  name: string;
  data?: Buffer | string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
}

/** A tar of `members`, in order. */
export async function tarOf(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack);
  for (const m of members) {
    const type = m.type ?? 'file';
    if (type === 'file') pack.entry({ name: m.name }, m.data ?? '');
    else pack.entry({ name: m.name, type, ...(m.linkname !== undefined && { linkname: m.linkname }) });
  }
  pack.finalize();
  return out;
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A descriptor for one disk file `href` of `size` bytes and `capacityBytes` of virtual capacity. */
export function descriptorFor(href: string, size: number, over: Partial<DescriptorInput> = {}): string {
  return buildDescriptor({
    version: '1.0',
    name: 'crafted',
    os: 'debian-12',
    vcpus: 1,
    memoryMiB: 512,
    disk: { href, sizeBytes: size, capacityBytes: 64 * 2 ** 20, format: 'vmdk' },
    product: { product: 'crafted', vendor: 'test' },
    ...over,
  });
}

/** A well-formed package: descriptor, SHA-256 manifest, the disk bytes given. */
export async function goodOva(
  disk: Buffer,
  diskName = 'crafted-disk1.vmdk',
  over: Partial<DescriptorInput> = {},
): Promise<Buffer> {
  const ovf = descriptorFor(diskName, disk.length, over);
  const mf = `SHA256(crafted.ovf)= ${sha256(ovf)}\nSHA256(${diskName})= ${sha256(disk)}\n`;
  return tarOf([
    { name: 'crafted.ovf', data: ovf },
    { name: 'crafted.mf', data: mf },
    { name: diskName, data: disk },
  ]);
}
