/**
 * Reads a VirtualHardwareSection (CIM RASD/SASD/EPASD items) into vCPUs, memory, controllers, disks and
 * NICs, once per deployment configuration: an item with `ovf:configuration` replaces the item of the same
 * InstanceID for those configurations only (DSP0243 9.8).
 */
import { DISK_RESOURCE_TYPES, RESOURCE_TYPE, bytesPerUnit, controllerKind } from './cim.js';
import type { OvfController, OvfDiskAttachment, OvfHardware, OvfNic } from './ovf-types.js';
import { type Problems, parseCount } from './ovf-problems.js';
import { attr, type XmlElement } from './xml.js';

interface Item {
  props: Map<string, string>;
  configurations?: string[];
  required: boolean;
}

const ITEM_NAMES = new Set(['Item', 'StorageItem', 'EthernetPortItem']);
const DROPPED_NAMES: Record<number, string> = {
  [RESOURCE_TYPE.usbController]: 'USB controller',
  [RESOURCE_TYPE.sound]: 'sound card',
  [RESOURCE_TYPE.graphics]: 'video card',
  [RESOURCE_TYPE.floppy]: 'floppy drive',
  21: 'serial port',
  [RESOURCE_TYPE.other]: 'other device',
};

/** The items of a hardware section, with their CIM properties keyed by lower-case local name. */
function readItems(section: XmlElement, ctx: HardwareContext): Item[] {
  const { ovfNs } = ctx;
  const items: Item[] = [];
  for (const el of section.children) {
    if (!ITEM_NAMES.has(el.name) || !ctx.elementNs.includes(el.ns)) continue;
    const bound = attr(el, ovfNs, 'bound');
    // Ranges (min/max) describe what a deployer may pick, not what the appliance is.
    if (bound === 'min' || bound === 'max') continue;
    const props = new Map<string, string>();
    for (const p of el.children) {
      const key = p.name.toLowerCase(); // OVF 0.9 writes InstanceId, later versions InstanceID
      if (!props.has(key)) props.set(key, p.text);
    }
    const configs = attr(el, ovfNs, 'configuration')?.trim();
    items.push({
      props,
      configurations: configs ? configs.split(/\s+/) : undefined,
      required: attr(el, ovfNs, 'required') !== 'false',
    });
  }
  return items;
}

/** The items in effect under `configuration`: per InstanceID, its configuration-specific item or else the general one. */
function effectiveItems(items: Item[], configuration: string | undefined): Item[] {
  const byId = new Map<string, Item>();
  const specific = new Set<string>();
  for (const item of items) {
    const id = item.props.get('instanceid') ?? `#${byId.size}`;
    if (item.configurations === undefined) {
      if (!specific.has(id)) byId.set(id, item);
    } else if (configuration !== undefined && item.configurations.includes(configuration)) {
      byId.set(id, item);
      specific.add(id);
    }
  }
  return [...byId.values()];
}

/** `ovf:/disk/vmdisk1`, `/disk/vmdisk1` (VirtualBox, Ganeti, OVF 0.9, some XenServer exports) -> { kind: 'disk', id: 'vmdisk1' }. */
function hostResource(raw: string | undefined): { kind: 'disk' | 'file'; id: string } | undefined {
  const m = /^(?:ovf:)?\/(disk|file)\/(.+)$/.exec(raw?.trim() ?? '');
  return m ? { kind: m[1] as 'disk' | 'file', id: m[2] as string } : undefined;
}

export interface HardwareContext {
  /** The envelope namespace (of `ovf:` attributes). */
  ovfNs: string;
  /** The namespaces the envelope's elements may be in (see `elementNamespaces`). */
  elementNs: readonly string[];
  field: string;
  diskIds: Set<string>;
  fileIds: Set<string>;
  networkNames: Set<string>;
  problems: Problems;
}

/** The hardware of `section` under `configuration` (undefined: the OVF defines no configurations). */
export function readHardware(section: XmlElement, configuration: string | undefined, ctx: HardwareContext): OvfHardware {
  const { problems, field } = ctx;
  const items = effectiveItems(readItems(section, ctx), configuration);
  const hw: OvfHardware = {
    ...(configuration !== undefined && { configuration }),
    controllers: [],
    disks: [],
    nics: [],
    systemTypes: [],
  };
  const system = section.children.find((c) => c.name === 'System');
  const types = system?.children.find((c) => c.name === 'VirtualSystemType')?.text.trim();
  if (types) hw.systemTypes = types.split(/\s+/);

  const pending: Array<{ item: Item; type: number }> = [];
  const dropped = new Set<string>();
  for (const item of items) {
    const id = item.props.get('instanceid') ?? '?';
    const itemField = `${field}.Item[${id}]`;
    const type = parseCount(item.props.get('resourcetype'), `${itemField}.ResourceType`, problems);
    if (type === undefined) continue;
    const quantity = () => parseCount(item.props.get('virtualquantity'), `${itemField}.VirtualQuantity`, problems);
    if (type === RESOURCE_TYPE.processor) {
      const n = quantity();
      if (n !== undefined && n < 1) problems.error(`${itemField}.VirtualQuantity`, 'a virtual system needs at least one CPU');
      else if (n !== undefined) hw.vcpus = n;
    } else if (type === RESOURCE_TYPE.memory) {
      hw.memoryMiB = memoryMiB(item, quantity(), itemField, problems);
    } else if (type === RESOURCE_TYPE.ethernet) {
      hw.nics.push(nic(item, id, itemField, ctx));
    } else if (controllerKind(type, item.props.get('resourcesubtype')) !== undefined) {
      const kind = controllerKind(type, item.props.get('resourcesubtype')) as OvfController['kind'];
      const subType = item.props.get('resourcesubtype')?.trim();
      hw.controllers.push({ instanceId: id, kind, ...(subType && { subType }) });
    } else if (DISK_RESOURCE_TYPES.has(type) || type === RESOURCE_TYPE.cdDrive || type === RESOURCE_TYPE.dvdDrive) {
      pending.push({ item, type });
    } else if (item.required || DROPPED_NAMES[type]) {
      // Naming the disk it points at shows why that disk then ends up attached to nothing.
      const disk = hostResource(item.props.get('hostresource'));
      const on = disk?.kind === 'disk' ? ` on disk '${disk.id}'` : '';
      dropped.add(`${DROPPED_NAMES[type] ?? `resource type ${type}`}${on}`);
    }
  }
  // Attachments last: they refer to controllers by InstanceID, which may come after them.
  for (const { item, type } of pending) hw.disks.push(attachment(item, type, hw.controllers, ctx));

  if (hw.vcpus === undefined) problems.warn(`${field}: no CPU item; 1 vCPU is assumed`);
  if (hw.memoryMiB === undefined) problems.warn(`${field}: no memory item; the smallest flavor's memory is assumed`);
  if (dropped.size > 0) problems.warn(`${field}: hardware not carried over to a cloud: ${[...dropped].sort().join(', ')}`);
  return hw;
}

function memoryMiB(item: Item, quantity: number | undefined, itemField: string, problems: Problems): number | undefined {
  if (quantity === undefined) return undefined;
  const units = item.props.get('allocationunits') ?? item.props.get('virtualquantityunits');
  if (units === undefined) {
    problems.warn(`${itemField}: memory has no AllocationUnits; MiB assumed`);
    return quantity;
  }
  let bytes: number;
  try {
    bytes = quantity * bytesPerUnit(units, `${itemField}.AllocationUnits`);
  } catch {
    problems.error(`${itemField}.AllocationUnits`, `'${units}' is not a unit of bytes skygate understands`);
    return undefined;
  }
  // A product past 2^53 is no longer an exact count, and would reach flavor matching as nonsense.
  if (!Number.isSafeInteger(bytes)) {
    const reason = `${quantity} × '${units}' is more bytes than can be counted exactly (at most ${Number.MAX_SAFE_INTEGER})`;
    problems.error(`${itemField}.VirtualQuantity`, reason);
    return undefined;
  }
  return Math.ceil(bytes / 2 ** 20);
}

function nic(item: Item, id: string, itemField: string, ctx: HardwareContext): OvfNic {
  const network = item.props.get('connection')?.trim() || undefined;
  if (network === undefined) ctx.problems.warn(`${itemField}: NIC is connected to no network`);
  else if (!ctx.networkNames.has(network))
    ctx.problems.warn(`${itemField}: NIC network '${network}' is not in the NetworkSection`);
  const subType = item.props.get('resourcesubtype')?.trim();
  return { instanceId: id, ...(network && { network }), ...(subType && { subType }) };
}

function attachment(item: Item, type: number, controllers: OvfController[], ctx: HardwareContext): OvfDiskAttachment {
  const id = item.props.get('instanceid') ?? '?';
  const itemField = `${ctx.field}.Item[${id}]`;
  const removable = !DISK_RESOURCE_TYPES.has(type);
  const parent = item.props.get('parent')?.trim();
  const controller = controllers.find((c) => c.instanceId === parent);
  if (parent !== undefined && controller === undefined && !removable) {
    ctx.problems.warn(`${itemField}: disk controller '${parent}' is not in the hardware section`);
  }
  const out: OvfDiskAttachment = { instanceId: id, removable, ...(controller && { controller: controller.kind }) };
  const raw = item.props.get('hostresource');
  const ref = hostResource(raw);
  if (ref?.kind === 'disk') {
    if (!ctx.diskIds.has(ref.id)) ctx.problems.error(`${itemField}.HostResource`, `disk '${ref.id}' is not in the DiskSection`);
    out.diskId = ref.id;
  } else if (ref?.kind === 'file') {
    if (!ctx.fileIds.has(ref.id)) ctx.problems.error(`${itemField}.HostResource`, `file '${ref.id}' is not in References`);
    out.fileId = ref.id;
  } else if (!removable) {
    const rule = `a ${DISK_RESOURCE_TYPES.get(type)} (ResourceType ${type}) item must name its disk as ovf:/disk/<id>`;
    const found = raw?.trim() ? `'${raw.trim()}' does not name a disk` : 'is missing';
    ctx.problems.error(`${itemField}.HostResource`, `${found}: ${rule}`);
  }
  return out;
}
