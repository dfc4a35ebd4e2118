/**
 * Writes the OVF descriptor of an exported image: one virtual system with its CPU, memory, a SCSI
 * controller, the disk and one NIC, valid against the DMTF schema of the chosen version (1.x: DSP8023
 * 1.1; 2.x: DSP8023 2.0, where NICs and disks become EPASD/SASD items).
 */
import { CIM_OS, RESOURCE_TYPE, cimOsIdFor } from './cim.js';
import { FORMAT_URI, type PortableFormat } from './disk-formats.js';
import { EPASD_NS, OVF_NS, RASD_NS, SASD_NS, VSSD_NS } from './ovf-namespaces.js';
import { invalid } from '../core/errors.js';
import { buildXml, el, firstNonXmlChar, type XmlNode } from './xml.js';

export type OvfWriteVersion = '1.0' | '2.0';

export interface DescriptorInput {
  version: OvfWriteVersion;
  /** The virtual system's id and name (the image's name). */
  name: string;
  os?: string;
  vcpus: number;
  memoryMiB: number;
  disk: { href: string; sizeBytes: number; capacityBytes: number; format: PortableFormat };
  /** Who made it, for the ProductSection. */
  product: { product: string; vendor: string; version?: string; properties?: Record<string, string> };
}

export const NETWORK_NAME = 'default';

/** CIM properties must appear in the schema's (alphabetical) order; this keeps callers free of that detail. */
function cimItem(element: string, prefix: string, props: Record<string, string | number | undefined>): XmlNode {
  const entries = Object.entries(props)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return el(`ovf:${element}`, {}, ...entries.map(([k, v]) => el(`${prefix}:${k}`, {}, String(v))));
}

/**
 * Refuses, before any work, an image whose name a descriptor cannot carry: a character outside XML 1.0 (the
 * name policy refuses them in new names; a provider may still hold such a name).
 */
export function checkDescribableName(name: string, what: string, field: string): void {
  const bad = firstNonXmlChar(name);
  if (bad !== undefined)
    throw invalid(field, `${what} is named with ${bad}, a character an OVF descriptor (XML 1.0) cannot carry`);
}

/** The descriptor XML for `input`; every value is escaped, and one XML cannot carry is refused naming its element. */
export function buildDescriptor(input: DescriptorInput): string {
  const v2 = input.version === '2.0';
  const osId = cimOsIdFor(input.os);
  const vsId = input.name.replace(/[^A-Za-z0-9._-]/g, '_') || 'vm';
  const systemType = input.disk.format === 'vmdk' ? 'vmx-08' : 'kvm';

  const items: XmlNode[] = [
    cimItem('Item', 'rasd', {
      AllocationUnits: 'hertz * 10^6',
      Description: 'Number of virtual CPUs',
      ElementName: `${input.vcpus} virtual CPU(s)`,
      InstanceID: 1,
      ResourceType: RESOURCE_TYPE.processor,
      VirtualQuantity: input.vcpus,
    }),
    cimItem('Item', 'rasd', {
      AllocationUnits: 'byte * 2^20',
      Description: 'Memory size',
      ElementName: `${input.memoryMiB} MiB of memory`,
      InstanceID: 2,
      ResourceType: RESOURCE_TYPE.memory,
      VirtualQuantity: input.memoryMiB,
    }),
    cimItem('Item', 'rasd', {
      Address: 0,
      Description: 'SCSI controller',
      ElementName: 'SCSI controller 0',
      InstanceID: 3,
      ResourceSubType: 'lsilogic',
      ResourceType: RESOURCE_TYPE.scsiController,
    }),
  ];
  const nic = {
    AutomaticAllocation: 'true',
    Connection: NETWORK_NAME,
    Description: `E1000 ethernet adapter on "${NETWORK_NAME}"`,
    ElementName: 'Network adapter 1',
    InstanceID: 5,
    ResourceSubType: 'E1000',
    ResourceType: RESOURCE_TYPE.ethernet,
  };
  const disk = {
    AddressOnParent: 0,
    ElementName: 'Hard disk 1',
    HostResource: 'ovf:/disk/vmdisk1',
    InstanceID: 4,
    Parent: 3,
    ResourceType: RESOURCE_TYPE.disk,
  };
  // DSP8023 2.0 orders the hardware as Items, then EthernetPortItems, then StorageItems.
  if (v2) items.push(cimItem('EthernetPortItem', 'epasd', nic), cimItem('StorageItem', 'sasd', disk));
  else items.push(cimItem('Item', 'rasd', disk), cimItem('Item', 'rasd', nic));

  const { product } = input;
  const info = (text: string) => el('ovf:Info', {}, text);
  const root = el(
    'ovf:Envelope',
    {
      'xmlns:ovf': v2 ? OVF_NS['2'] : OVF_NS['1'],
      'xmlns:rasd': RASD_NS,
      'xmlns:vssd': VSSD_NS,
      ...(v2 && { 'xmlns:epasd': EPASD_NS, 'xmlns:sasd': SASD_NS }),
      'ovf:version': input.version,
      'xml:lang': 'en-US',
    },
    el(
      'ovf:References',
      {},
      el('ovf:File', { 'ovf:href': input.disk.href, 'ovf:id': 'file1', 'ovf:size': input.disk.sizeBytes }),
    ),
    el(
      'ovf:DiskSection',
      {},
      info('Virtual disk information'),
      el('ovf:Disk', {
        'ovf:capacity': input.disk.capacityBytes,
        'ovf:capacityAllocationUnits': 'byte',
        'ovf:diskId': 'vmdisk1',
        'ovf:fileRef': 'file1',
        'ovf:format': FORMAT_URI[input.disk.format],
      }),
    ),
    el(
      'ovf:NetworkSection',
      {},
      info('The logical networks'),
      el('ovf:Network', { 'ovf:name': NETWORK_NAME }, el('ovf:Description', {}, 'The network the VM is attached to')),
    ),
    el(
      'ovf:VirtualSystem',
      { 'ovf:id': vsId },
      info('A virtual machine'),
      el('ovf:Name', {}, input.name),
      el(
        'ovf:ProductSection',
        { 'ovf:required': 'false' },
        info('How this package was made'),
        el('ovf:Product', {}, product.product),
        el('ovf:Vendor', {}, product.vendor),
        product.version === undefined ? undefined : el('ovf:Version', {}, product.version),
        ...Object.entries(product.properties ?? {}).map(([key, value]) =>
          el('ovf:Property', { 'ovf:key': key, 'ovf:type': 'string', 'ovf:value': value }),
        ),
      ),
      el(
        'ovf:OperatingSystemSection',
        { 'ovf:id': osId },
        info('The kind of installed guest operating system'),
        el('ovf:Description', {}, input.os ?? CIM_OS[osId] ?? 'Other'),
      ),
      el(
        'ovf:VirtualHardwareSection',
        {},
        info('Virtual hardware requirements'),
        el(
          'ovf:System',
          {},
          el('vssd:ElementName', {}, 'Virtual Hardware Family'),
          el('vssd:InstanceID', {}, '0'),
          el('vssd:VirtualSystemIdentifier', {}, vsId),
          el('vssd:VirtualSystemType', {}, systemType),
        ),
        ...items,
      ),
    ),
  );
  return buildXml(root);
}
