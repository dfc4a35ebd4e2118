/** CIM vocabulary OVF borrows: resource types (RASD), operating system types, and programmatic units (DSP0004). */
import { invalid } from '../core/errors.js';

/** CIM_ResourceAllocationSettingData.ResourceType values that matter when mapping hardware. */
export const RESOURCE_TYPE = {
  other: 1,
  processor: 3,
  memory: 4,
  ideController: 5,
  scsiController: 6,
  ethernet: 10,
  floppy: 14,
  cdDrive: 15,
  dvdDrive: 16,
  disk: 17,
  /** "Storage Extent": what XenServer/XenCenter exports attach their disks as. */
  storageExtent: 19,
  sataController: 20,
  usbController: 23,
  graphics: 24,
  /** "Logical Disk": used for virtual disks by some tools. */
  logicalDisk: 31,
  sound: 35,
} as const;

/**
 * The resource types (CIM_ResourceAllocationSettingData.ResourceType ValueMap: 17 "Disk Drive", 19 "Storage
 * Extent", 31 "Logical Disk") whose item is a disk backed by what its HostResource names: `ovf:/disk/<id>`, a
 * DiskSection disk, or `ovf:/file/<id>` (DSP0243, HostResource URIs). Which of them a tool writes varies;
 * the reference does not.
 */
export const DISK_RESOURCE_TYPES: ReadonlyMap<number, string> = new Map([
  [RESOURCE_TYPE.disk, 'Disk Drive'],
  [RESOURCE_TYPE.storageExtent, 'Storage Extent'],
  [RESOURCE_TYPE.logicalDisk, 'Logical Disk'],
]);

export type ControllerKind = 'ide' | 'scsi' | 'sata' | 'nvme';

export function controllerKind(resourceType: number, subType?: string): ControllerKind | undefined {
  if (resourceType === RESOURCE_TYPE.ideController) return 'ide';
  if (resourceType === RESOURCE_TYPE.scsiController) return 'scsi';
  if (resourceType === RESOURCE_TYPE.sataController) return 'sata';
  // NVMe controllers are "other storage" (20 is SATA) with a subtype in practice.
  if (subType?.toLowerCase().includes('nvme')) return 'nvme';
  return undefined;
}

/** CIM_OperatingSystem.OSType (the `ovf:id` of OperatingSystemSection): the values real descriptors use. */
export const CIM_OS: Record<number, string> = {
  0: 'Unknown',
  1: 'Other',
  36: 'Linux',
  42: 'FreeBSD',
  58: 'Windows 2000',
  65: 'OpenBSD',
  67: 'Windows XP',
  69: 'Windows Server 2003',
  70: 'Windows Server 2003 64-Bit',
  71: 'Windows XP 64-Bit',
  73: 'Windows Vista',
  74: 'Windows Vista 64-Bit',
  76: 'Windows Server 2008',
  77: 'Windows Server 2008 64-Bit',
  78: 'FreeBSD 64-Bit',
  79: 'RedHat Enterprise Linux',
  80: 'RedHat Enterprise Linux 64-Bit',
  82: 'SUSE',
  83: 'SUSE 64-Bit',
  84: 'SLES',
  85: 'SLES 64-Bit',
  93: 'Ubuntu',
  94: 'Ubuntu 64-Bit',
  95: 'Debian',
  96: 'Debian 64-Bit',
  97: 'Linux 2.4.x',
  98: 'Linux 2.4.x 64-Bit',
  99: 'Linux 2.6.x',
  100: 'Linux 2.6.x 64-Bit',
  101: 'Linux 64-Bit',
  102: 'Other 64-Bit',
  103: 'Windows Server 2008 R2',
  104: 'VMware ESXi',
  105: 'Windows 7',
  106: 'CentOS 32-bit',
  107: 'CentOS 64-bit',
  108: 'Oracle Linux 32-bit',
  109: 'Oracle Linux 64-bit',
  113: 'Windows Server 2012',
  114: 'Windows 8',
  115: 'Windows 8 64-bit',
  116: 'Windows Server 2012 R2',
};

/** The CIM OS id for a free-form OS name (`ubuntu-22.04`, `debian-12`, `windows-2019`): a best effort for export. */
export function cimOsIdFor(os: string | undefined): number {
  const s = (os ?? '').toLowerCase();
  if (s.startsWith('ubuntu')) return 94;
  if (s.startsWith('debian')) return 96;
  if (s.startsWith('centos')) return 107;
  if (s.startsWith('rhel') || s.startsWith('redhat')) return 80;
  if (s.startsWith('sles') || s.startsWith('suse') || s.startsWith('opensuse')) return 85;
  if (s.startsWith('freebsd')) return 78;
  if (s.startsWith('windows')) return 102;
  if (s === '') return 1;
  return 101; // cirros, alpine, fedora...: a 64-bit Linux is the likeliest guess for cloud images
}

const NAMED_UNITS: Record<string, number> = {
  byte: 1,
  bytes: 1,
  kb: 1024,
  kilobytes: 1024,
  kib: 1024,
  mb: 2 ** 20,
  megabytes: 2 ** 20,
  mib: 2 ** 20,
  gb: 2 ** 30,
  gigabytes: 2 ** 30,
  gib: 2 ** 30,
  tb: 2 ** 40,
  terabytes: 2 ** 40,
};

/**
 * The number of bytes one unit of `units` stands for: DSP0004 programmatic units (`byte * 2^20`,
 * `byte * 10^9`, `byte * 1024`) or the legacy names VirtualBox and OVF 0.9 write (`MegaBytes`, `GB`).
 */
export function bytesPerUnit(units: string, field: string): number {
  const compact = units.replace(/\s+/g, '').toLowerCase();
  const named = NAMED_UNITS[compact];
  if (named !== undefined) return named;
  const [base, ...factors] = compact.split('*');
  if (base !== 'byte' && base !== 'bytes') throw invalid(field, `'${units}' is not a unit of bytes`);
  let n = 1;
  for (const f of factors) {
    const m = /^(\d+)(?:\^(\d+))?$/.exec(f);
    if (!m) throw invalid(field, `'${units}' is not a programmatic unit skygate understands`);
    n *= Number(m[1]) ** Number(m[2] ?? 1);
  }
  if (!Number.isSafeInteger(n) || n < 1) throw invalid(field, `'${units}' is out of range`);
  return n;
}
