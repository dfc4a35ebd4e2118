/** The OVF envelope as skygate understands it, whichever OVF version or tool wrote it. */
import type { ControllerKind } from './cim.js';
import type { OvfGeneration } from './ovf-namespaces.js';

export interface OvfFile {
  id: string;
  href: string;
  /** Declared size in bytes (`ovf:size`), when given. */
  size?: number;
  /** `ovf:compression` (gzip...) or `ovf:chunkSize`: packaging skygate does not unpack. */
  compression?: string;
  chunkSize?: number;
}

export interface OvfDisk {
  id: string;
  fileRef?: string;
  /** Virtual capacity in bytes; absent when the descriptor omits it (the file's own header then decides). */
  capacityBytes?: number;
  populatedSizeBytes?: number;
  /** The `ovf:format` URI. */
  format?: string;
}

export interface OvfNetwork {
  name: string;
  description?: string;
}

export interface OvfDeploymentOption {
  id: string;
  label?: string;
  description?: string;
  default: boolean;
}

export interface OvfController {
  instanceId: string;
  kind: ControllerKind;
  subType?: string;
}

export interface OvfDiskAttachment {
  instanceId: string;
  /** The DiskSection disk it attaches (`ovf:/disk/<id>`). */
  diskId?: string;
  /** Or a file attached directly (`ovf:/file/<id>`), e.g. an ISO in a CD drive. */
  fileId?: string;
  controller?: ControllerKind;
  /** CD/DVD drives and floppies are attachments too, but not disks to import. */
  removable: boolean;
}

export interface OvfNic {
  instanceId: string;
  network?: string;
  subType?: string;
}

/** The hardware of one virtual system under one deployment configuration. */
export interface OvfHardware {
  /** The deployment configuration these figures are for (undefined when the OVF has none). */
  configuration?: string;
  vcpus?: number;
  memoryMiB?: number;
  controllers: OvfController[];
  disks: OvfDiskAttachment[];
  nics: OvfNic[];
  /** `vssd:VirtualSystemType` values (`vmx-08`, `virtualbox-2.2`). */
  systemTypes: string[];
}

export interface OvfProductProperty {
  key: string;
  type?: string;
  value?: string;
  userConfigurable: boolean;
  password: boolean;
}

export interface OvfProduct {
  class?: string;
  product?: string;
  vendor?: string;
  version?: string;
  fullVersion?: string;
  properties: OvfProductProperty[];
}

export interface OvfOperatingSystem {
  /** CIM_OperatingSystem.OSType. */
  cimId?: number;
  description?: string;
  /** A tool's own OS type (`vmw:osType`, `vbox:OSType`). */
  toolType?: string;
}

export interface OvfVirtualSystem {
  id: string;
  name?: string;
  os?: OvfOperatingSystem;
  /** The hardware for the default configuration. */
  hardware: OvfHardware;
  /** The hardware under each other deployment configuration. */
  otherConfigurations: OvfHardware[];
  products: OvfProduct[];
}

export interface OvfEnvelope {
  generation: OvfGeneration;
  /** `ovf:version` when given, else the generation's base version. */
  version: string;
  files: OvfFile[];
  disks: OvfDisk[];
  networks: OvfNetwork[];
  deploymentOptions: OvfDeploymentOption[];
  virtualSystems: OvfVirtualSystem[];
  /** What a strict reader would complain about but an importer can live with. */
  warnings: string[];
}
