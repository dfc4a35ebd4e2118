/** What an import takes from an envelope: one virtual system, its boot disk, and the hardware a flavor must cover. */
import { SkygateError, invalid } from '../core/errors.js';
import type { HardwareNeed } from '../core/flavor-match.js';
import { checkName } from '../core/name-policy.js';
import { DISK_RESOURCE_TYPES } from './cim.js';
import { type QemuFormat, qemuFormatOf } from './disk-formats.js';
import { osName } from './ovf-summary.js';
import type { OvfDisk, OvfEnvelope, OvfFile, OvfVirtualSystem } from './ovf-types.js';

export interface ImportPlan {
  virtualSystem: OvfVirtualSystem;
  name: string;
  os?: string;
  disk: OvfDisk;
  file: OvfFile;
  format: QemuFormat;
  need: HardwareNeed;
  /** Disks of the virtual system that do not become the image (only the boot disk does). */
  skippedDisks: string[];
  warnings: string[];
}

const GiB = 2 ** 30;

export interface ImportLimits {
  /** Largest virtual size (capacity) the boot disk may declare, in bytes (portability.virtualSizeMaxBytes). */
  maxVirtualBytes?: number;
}

/** Why a disk of `bytes` is refused under `limits`, or undefined when it is within them. */
export function overVirtualSizeCap(bytes: number, limits: ImportLimits): string | undefined {
  const max = limits.maxVirtualBytes;
  if (max === undefined || bytes <= max) return undefined;
  return `${bytes} bytes (${(bytes / GiB).toFixed(1)} GiB) is more than the ${max} bytes an import accepts (portability.virtualSizeMaxBytes, SKYGATE_VIRTUAL_SIZE_MAX_BYTES)`;
}

/**
 * Picks the first virtual system and its first (boot) disk. Throws `invalid_input` when there is no disk to
 * import or it declares a capacity over `limits`, and `unsupported` for a disk format qemu-img is not trusted
 * to read here.
 */
export function planImport(env: OvfEnvelope, limits: ImportLimits = {}): ImportPlan {
  const warnings: string[] = [];
  const vs = env.virtualSystems[0] as OvfVirtualSystem;
  if (env.virtualSystems.length > 1) {
    warnings.push(`the package holds ${env.virtualSystems.length} virtual systems; only '${vs.id}' is imported`);
  }
  const attached = vs.hardware.disks.filter((a) => !a.removable && a.diskId !== undefined);
  const boot = attached[0];
  if (!boot) throw invalid(`descriptor.VirtualSystem[${vs.id}]`, noDiskReason(env, vs));
  const disk = env.disks.find((d) => d.id === boot.diskId) as OvfDisk;
  const file = env.files.find((f) => f.id === disk.fileRef);
  if (!file) throw invalid(`descriptor.DiskSection.Disk[${disk.id}]`, 'has no file (an empty disk cannot become an image)');
  const over = disk.capacityBytes === undefined ? undefined : overVirtualSizeCap(disk.capacityBytes, limits);
  if (over !== undefined) throw invalid(`descriptor.DiskSection.Disk[${disk.id}].capacity`, `declares ${over}`);
  const format = qemuFormatOf(disk.format);
  if (!format) {
    throw new SkygateError(
      'unsupported',
      `disk '${disk.id}' has format '${disk.format ?? '(none)'}', which skygate cannot convert`,
      {
        field: `descriptor.DiskSection.Disk[${disk.id}].format`,
      },
    );
  }
  const skippedDisks = attached.slice(1).map((a) => a.diskId as string);
  if (skippedDisks.length > 0)
    warnings.push(`only the boot disk '${disk.id}' becomes the image; not imported: ${skippedDisks.join(', ')}`);
  const os = osName(vs.os) ?? undefined;
  // The image is named after the virtual system, so its name follows the name policy like any other.
  const name = checkName(vs.name ?? vs.id, `descriptor.VirtualSystem[${vs.id}].${vs.name === undefined ? 'id' : 'Name'}`);
  return {
    virtualSystem: vs,
    name,
    ...(os !== undefined && { os }),
    disk,
    file,
    format,
    need: {
      vcpus: vs.hardware.vcpus ?? 1,
      memoryMiB: vs.hardware.memoryMiB ?? 0,
      ...(disk.capacityBytes !== undefined && { diskGiB: Math.ceil(disk.capacityBytes / GiB) }),
    },
    skippedDisks,
    warnings,
  };
}

/** Why `vs` attaches no disk to import, in terms of the descriptor the user holds. */
function noDiskReason(env: OvfEnvelope, vs: OvfVirtualSystem): string {
  const direct = vs.hardware.disks.find((a) => !a.removable && a.fileId !== undefined);
  if (direct) {
    return `attaches its disk as file '${direct.fileId}' (HostResource ovf:/file/<id>) instead of a DiskSection disk, so skygate knows neither its format nor its capacity`;
  }
  if (env.disks.length === 0) return 'attaches no disk and the DiskSection declares none, so there is nothing to import';
  const types = [...DISK_RESOURCE_TYPES].map(([n, name]) => `${name} (${n})`).join(', ');
  const ids = env.disks.map((d) => `'${d.id}'`).join(', ');
  return `attaches none of the DiskSection's disks (${ids}): no item of ResourceType ${types} names one in its HostResource (ovf:/disk/<id>), so there is nothing to import`;
}
