/** Disk formats: the URIs OVF descriptors name them by, and the qemu-img driver that reads each. */

/** What skygate writes into OVAs and converts imports into. */
export type PortableFormat = 'vmdk' | 'qcow2' | 'raw';
/** What skygate can read from a package: the portable ones plus VHD. */
export type QemuFormat = PortableFormat | 'vpc';

export const PORTABLE_FORMATS: readonly PortableFormat[] = ['vmdk', 'qcow2', 'raw'];

/** The format URI written for each export format (VMware's for VMDK, the de facto ones of oVirt/libvirt otherwise). */
export const FORMAT_URI: Record<PortableFormat, string> = {
  vmdk: 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized',
  qcow2: 'http://www.gnome.org/~markmc/qcow-image-format.html',
  raw: 'http://en.wikipedia.org/wiki/Byte',
};

const EXTENSION: Record<QemuFormat, string> = { vmdk: 'vmdk', qcow2: 'qcow2', raw: 'img', vpc: 'vhd' };
export const extensionOf = (f: QemuFormat): string => EXTENSION[f];

/**
 * The qemu-img driver for an OVF `ovf:format` URI, matched loosely because writers vary the host and
 * fragment (`vmdk.html#streamOptimized`, `vmdk.html#sparse`, `people.gnome.org/~markmc/...`).
 */
export function qemuFormatOf(uri: string | undefined): QemuFormat | undefined {
  const u = (uri ?? '').toLowerCase();
  if (u.includes('vmdk.html')) return 'vmdk';
  if (u.includes('qcow-image-format')) return 'qcow2';
  if (u.includes('bb676673') || u.includes('vhd')) return 'vpc';
  if (u === FORMAT_URI.raw.toLowerCase() || u.endsWith('/raw') || u.endsWith('#raw')) return 'raw';
  return undefined;
}

/** The format an import uploads when the caller does not ask for one: the package's own, VHD becoming raw. */
export const uploadFormatFor = (f: QemuFormat): PortableFormat => (f === 'vpc' ? 'raw' : f);

/** VMDK sub-formats whose data lives in the one file (no extents pointing at other files). */
export const SELF_CONTAINED_VMDK = new Set(['streamOptimized', 'monolithicSparse']);

/** The model's image formats that qemu-img can read, by driver name. */
export function qemuFormatOfImage(diskFormat: string): QemuFormat | undefined {
  if (diskFormat === 'vhd') return 'vpc';
  return (PORTABLE_FORMATS as readonly string[]).includes(diskFormat) ? (diskFormat as PortableFormat) : undefined;
}
