/** The short form of an envelope that `skygate ova inspect --json` prints and imports record. */
import { CIM_OS } from './cim.js';
import { qemuFormatOf } from './disk-formats.js';
import type { OvfEnvelope, OvfHardware, OvfVirtualSystem } from './ovf-types.js';

export interface OvfDiskSummary {
  id: string;
  capacityBytes: number | null;
  /** vmdk, qcow2, raw, vhd, or the descriptor's URI when skygate does not know it. */
  format: string | null;
  file: string | null;
}

export interface OvfConfigurationSummary {
  id: string;
  label?: string;
  vcpus: number | null;
  memoryMiB: number | null;
}

export interface OvfSystemSummary {
  id: string;
  name: string;
  os: string | null;
  vcpus: number | null;
  memoryMiB: number | null;
  disks: OvfDiskSummary[];
  networks: string[];
  nics: number;
  /** With DeploymentOptions: the (default) configuration the figures above are for, and the others. */
  configuration?: string;
  otherConfigurations?: OvfConfigurationSummary[];
}

export interface OvfSummary {
  ovfVersion: string;
  virtualSystems: OvfSystemSummary[];
  files: Array<{ id: string; href: string; size: number | null }>;
  warnings: string[];
}

/** A human name for the guest OS: the descriptor's description, else the tool's type, else the CIM name. */
export function osName(os: OvfVirtualSystem['os']): string | null {
  if (!os) return null;
  return os.description ?? os.toolType ?? (os.cimId === undefined ? null : (CIM_OS[os.cimId] ?? `CIM OS type ${os.cimId}`));
}

/** The disks `hw` attaches (not CD drives), resolved through the DiskSection and References. */
export function attachedDisks(env: OvfEnvelope, hw: OvfHardware): OvfDiskSummary[] {
  return hw.disks
    .filter((a) => !a.removable && a.diskId !== undefined)
    .map((a) => {
      const disk = env.disks.find((d) => d.id === a.diskId);
      const file = env.files.find((f) => f.id === disk?.fileRef);
      const format = disk?.format === undefined ? null : (qemuFormatOf(disk.format)?.replace('vpc', 'vhd') ?? disk.format);
      return { id: a.diskId as string, capacityBytes: disk?.capacityBytes ?? null, format, file: file?.href ?? null };
    });
}

export function summarize(env: OvfEnvelope): OvfSummary {
  return {
    ovfVersion: env.version,
    virtualSystems: env.virtualSystems.map((vs) => {
      const hw = vs.hardware;
      const labelOf = (id: string | undefined) => env.deploymentOptions.find((o) => o.id === id)?.label;
      return {
        id: vs.id,
        name: vs.name ?? vs.id,
        os: osName(vs.os),
        vcpus: hw.vcpus ?? null,
        memoryMiB: hw.memoryMiB ?? null,
        disks: attachedDisks(env, hw),
        networks: [...new Set(hw.nics.flatMap((n) => (n.network ? [n.network] : [])))],
        nics: hw.nics.length,
        ...(hw.configuration !== undefined && {
          configuration: hw.configuration,
          otherConfigurations: vs.otherConfigurations.map((o) => {
            const label = labelOf(o.configuration);
            return { id: o.configuration ?? '', ...(label && { label }), vcpus: o.vcpus ?? null, memoryMiB: o.memoryMiB ?? null };
          }),
        }),
      };
    }),
    files: env.files.map((f) => ({ id: f.id, href: f.href, size: f.size ?? null })),
    warnings: env.warnings,
  };
}
