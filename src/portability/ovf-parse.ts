/**
 * Parses an OVF descriptor (DSP0243 1.x and 2.x, plus VMware's 0.9 draft) into an OvfEnvelope. Lenient
 * where real tools differ (VirtualBox's `/disk/` host resources, missing units or capacities: warnings),
 * strict where an import would go wrong (unknown namespace, dangling references, bad numbers: errors).
 */
import { invalid } from '../core/errors.js';
import { bytesPerUnit } from './cim.js';
import { readHardware, type HardwareContext } from './ovf-hardware.js';
import { OVF_NS, type OvfGeneration, VBOX_NS, VMW_NS, XSI_NS, elementNamespaces, generationOf } from './ovf-namespaces.js';
import { Problems, parseCount } from './ovf-problems.js';
import type {
  OvfDeploymentOption,
  OvfDisk,
  OvfEnvelope,
  OvfFile,
  OvfNetwork,
  OvfProduct,
  OvfVirtualSystem,
} from './ovf-types.js';
import { attr, parseXml, type XmlElement } from './xml.js';

/** Sections skygate reads or may safely ignore; anything else not marked `ovf:required="false"` earns a warning. */
const KNOWN_SECTIONS = new Set([
  'Info',
  'Name',
  'References',
  'DiskSection',
  'NetworkSection',
  'DeploymentOptionSection',
  'VirtualSystem',
  'VirtualSystemCollection',
  'OperatingSystemSection',
  'VirtualHardwareSection',
  'ProductSection',
  'AnnotationSection',
  'EulaSection',
  'StartupSection',
  'ResourceAllocationSection',
  'InstallSection',
  'EnvironmentSection',
  'Strings',
]);

interface Ctx {
  generation: OvfGeneration;
  /** The envelope namespace, which `ovf:` attributes are in. */
  ns: string;
  /** The namespaces the envelope's elements may be in. */
  elementNs: readonly string[];
  problems: Problems;
}

const isOvf = (el: XmlElement, ctx: Ctx) => ctx.elementNs.includes(el.ns);
const CONTENT_NAMES = new Set(['VirtualSystem', 'VirtualSystemCollection', 'Content']);

/**
 * OVF allows a section as `<Section xsi:type="ovf:DiskSection_Type">` (0.9 always does it that way):
 * the name it stands for.
 */
function sectionName(el: XmlElement): string {
  if (el.name !== 'Section' && el.name !== 'Content') return el.name;
  const type = el.attrs.get(`{${XSI_NS}}type`)?.split(':').pop();
  return type?.endsWith('_Type') ? type.slice(0, -5) : el.name;
}

const sections = (el: XmlElement, ctx: Ctx, name: string) => el.children.filter((c) => isOvf(c, ctx) && sectionName(c) === name);
const textOf = (el: XmlElement, ctx: Ctx, name: string) => sections(el, ctx, name)[0]?.text.trim() || undefined;

/** Parses descriptor text; throws `invalid_input` naming every problem, answers the envelope with its warnings. */
export function parseOvf(input: string | Buffer): OvfEnvelope {
  const root = parseXml(input);
  const generation = generationOf(root.ns);
  if (root.name !== 'Envelope' || generation === undefined) {
    const known = Object.values(OVF_NS).join(', ');
    // `<Envelope ovf:version="…">` with only xmlns:ovf declared: the element itself is in no namespace.
    const attrNs = [...root.attrs.keys()].map((k) => /^\{(.*)\}/.exec(k)?.[1]).find((ns) => ns && generationOf(ns));
    const hint = root.ns === '' && attrNs ? `; it is in no namespace, although its attributes are in ${attrNs}` : '';
    throw invalid(
      'descriptor',
      `root element {${root.ns}}${root.name} is not an OVF Envelope in a known namespace (${known})${hint}`,
    );
  }
  const ctx: Ctx = { generation, ns: root.ns, elementNs: elementNamespaces(generation), problems: new Problems() };
  if (generation === '0.9') ctx.problems.warn('OVF 0.9 (VMware pre-DMTF draft namespace): read as OVF 1.0');
  const declared = attr(root, ctx.ns, 'version');
  const version = declared ?? (generation === '0.9' ? '0.9' : `${generation}.0`);

  const files = readReferences(root, ctx);
  const properties = collectProperties(root, ctx);
  const disks = readDisks(root, ctx, new Set(files.map((f) => f.id)), properties);
  const networks = sections(root, ctx, 'NetworkSection').flatMap((s) =>
    sections(s, ctx, 'Network').map((n): OvfNetwork => {
      const description = textOf(n, ctx, 'Description');
      return { name: attr(n, ctx.ns, 'name') ?? '', ...(description && { description }) };
    }),
  );
  const deploymentOptions = readDeploymentOptions(root, ctx);
  const hwBase = {
    ovfNs: ctx.ns,
    elementNs: ctx.elementNs,
    diskIds: new Set(disks.map((d) => d.id)),
    fileIds: new Set(files.map((f) => f.id)),
    networkNames: new Set(networks.map((n) => n.name)),
    problems: ctx.problems,
  };
  const untyped: XmlElement[] = [];
  const virtualSystems = readContent(root, ctx, deploymentOptions, hwBase, untyped);
  for (const c of untyped) ctx.problems.error(`descriptor.Content[${attr(c, ctx.ns, 'id') ?? ''}]`, untypedContentReason(c));
  // A Content that could not be typed already says why there is no VirtualSystem.
  if (virtualSystems.length === 0 && untyped.length === 0)
    ctx.problems.error('descriptor.VirtualSystem', noVirtualSystemReason(root, ctx));
  warnUnknownSections(root, ctx, 'Envelope');

  const attached = new Set(virtualSystems.flatMap((vs) => vs.hardware.disks.map((d) => d.diskId)));
  for (const d of disks) if (!attached.has(d.id)) ctx.problems.warn(`disk '${d.id}' is attached to no virtual system`);
  ctx.problems.throwIfAny();
  return { generation, version, files, disks, networks, deploymentOptions, virtualSystems, warnings: ctx.problems.warnings };
}

function readReferences(root: XmlElement, ctx: Ctx): OvfFile[] {
  const refs = sections(root, ctx, 'References')[0];
  if (!refs) {
    ctx.problems.warn('the envelope has no References element');
    return [];
  }
  const files: OvfFile[] = [];
  for (const f of sections(refs, ctx, 'File')) {
    const id = attr(f, ctx.ns, 'id') ?? '';
    const field = `descriptor.References.File[${id}]`;
    const href = attr(f, ctx.ns, 'href') ?? '';
    if (id === '') ctx.problems.error('descriptor.References.File', 'a File has no ovf:id');
    if (files.some((x) => x.id === id)) ctx.problems.error(field, `file id '${id}' is declared twice`);
    if (href === '') ctx.problems.error(`${field}.href`, 'is missing');
    const size = parseCount(attr(f, ctx.ns, 'size'), `${field}.size`, ctx.problems);
    const chunkSize = parseCount(attr(f, ctx.ns, 'chunkSize'), `${field}.chunkSize`, ctx.problems);
    const compression = attr(f, ctx.ns, 'compression');
    files.push({
      id,
      href,
      ...(size !== undefined && { size }),
      ...(compression !== undefined && compression !== 'identity' && { compression }),
      ...(chunkSize !== undefined && { chunkSize }),
    });
  }
  return files;
}

/** ProductSection property defaults, for `${key}` references in disk capacities. */
function collectProperties(root: XmlElement, ctx: Ctx): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (el: XmlElement) => {
    for (const c of el.children) {
      if (isOvf(c, ctx) && sectionName(c) === 'Property') {
        const key = attr(c, ctx.ns, 'key');
        const value = attr(c, ctx.ns, 'value');
        if (key !== undefined && value !== undefined) out.set(key, value);
      } else visit(c);
    }
  };
  visit(root);
  return out;
}

function readDisks(root: XmlElement, ctx: Ctx, fileIds: Set<string>, properties: Map<string, string>): OvfDisk[] {
  const disks: OvfDisk[] = [];
  for (const d of sections(root, ctx, 'DiskSection').flatMap((s) => sections(s, ctx, 'Disk'))) {
    const id = attr(d, ctx.ns, 'diskId') ?? '';
    const field = `descriptor.DiskSection.Disk[${id}]`;
    if (id === '') ctx.problems.error('descriptor.DiskSection.Disk', 'a Disk has no ovf:diskId');
    if (disks.some((x) => x.id === id)) ctx.problems.error(field, `disk id '${id}' is declared twice`);
    const fileRef = attr(d, ctx.ns, 'fileRef');
    if (fileRef !== undefined && !fileIds.has(fileRef))
      ctx.problems.error(`${field}.fileRef`, `file '${fileRef}' is not in References`);
    let rawCapacity = attr(d, ctx.ns, 'capacity');
    const property = /^\$\{(.+)\}$/.exec(rawCapacity ?? '')?.[1];
    if (property !== undefined) rawCapacity = properties.get(property);
    let capacityBytes: number | undefined;
    if (rawCapacity === undefined) {
      ctx.problems.warn(`${field}: no ovf:capacity (DSP0243 requires one); the disk file's own size will be used`);
    } else {
      const n = parseCount(rawCapacity, `${field}.capacity`, ctx.problems);
      const units = attr(d, ctx.ns, 'capacityAllocationUnits') ?? 'byte';
      try {
        if (n !== undefined) capacityBytes = n * bytesPerUnit(units, `${field}.capacityAllocationUnits`);
      } catch {
        ctx.problems.error(`${field}.capacityAllocationUnits`, `'${units}' is not a unit of bytes skygate understands`);
      }
      if (capacityBytes !== undefined && !Number.isSafeInteger(capacityBytes)) {
        const reason = `${n} × '${units}' is more bytes than can be counted exactly (at most ${Number.MAX_SAFE_INTEGER})`;
        ctx.problems.error(`${field}.capacity`, reason);
        capacityBytes = undefined;
      }
    }
    const populated = parseCount(attr(d, ctx.ns, 'populatedSize'), `${field}.populatedSize`, ctx.problems);
    const format = attr(d, ctx.ns, 'format');
    disks.push({
      id,
      ...(fileRef !== undefined && { fileRef }),
      ...(capacityBytes !== undefined && { capacityBytes }),
      ...(populated !== undefined && { populatedSizeBytes: populated }),
      ...(format !== undefined && { format }),
    });
  }
  return disks;
}

function readDeploymentOptions(root: XmlElement, ctx: Ctx): OvfDeploymentOption[] {
  const options = sections(root, ctx, 'DeploymentOptionSection').flatMap((s) =>
    sections(s, ctx, 'Configuration').map((c): OvfDeploymentOption => {
      const label = textOf(c, ctx, 'Label');
      const description = textOf(c, ctx, 'Description');
      return {
        id: attr(c, ctx.ns, 'id') ?? '',
        ...(label && { label }),
        ...(description && { description }),
        default: attr(c, ctx.ns, 'default') === 'true',
      };
    }),
  );
  // Without an explicit default, the first configuration is the default (DSP0243 9.8).
  if (options.length > 0 && !options.some((o) => o.default)) (options[0] as OvfDeploymentOption).default = true;
  return options;
}

/** The virtual systems under `el`, collections flattened; Content elements whose kind is unknown go to `untyped`. */
function readContent(
  el: XmlElement,
  ctx: Ctx,
  options: OvfDeploymentOption[],
  hwBase: Omit<HardwareContext, 'field'>,
  untyped: XmlElement[],
): OvfVirtualSystem[] {
  const out: OvfVirtualSystem[] = [];
  for (const c of el.children) {
    if (!isOvf(c, ctx)) continue;
    const name = sectionName(c);
    if (name === 'VirtualSystemCollection') out.push(...readContent(c, ctx, options, hwBase, untyped));
    else if (name === 'VirtualSystem') out.push(readVirtualSystem(c, ctx, options, hwBase));
    else if (c.name === 'Content') untyped.push(c);
  }
  return out;
}

/** `<Content>` is the abstract head of VirtualSystem and VirtualSystemCollection: only xsi:type says which it is. */
function untypedContentReason(c: XmlElement): string {
  const type = c.attrs.get(`{${XSI_NS}}type`);
  return type === undefined
    ? 'has no xsi:type, so it cannot be told whether it is a virtual system or a collection (expected ovf:VirtualSystem_Type or ovf:VirtualSystemCollection_Type)'
    : `has xsi:type '${type}', which is neither ovf:VirtualSystem_Type nor ovf:VirtualSystemCollection_Type; skygate imports virtual systems only`;
}

/** Why an envelope holds no VirtualSystem: most often one that is there but in the wrong namespace. */
function noVirtualSystemReason(root: XmlElement, ctx: Ctx): string {
  const stray = root.children.find((c) => !isOvf(c, ctx) && CONTENT_NAMES.has(c.name));
  if (!stray) return 'the envelope holds no VirtualSystem';
  const where = stray.ns === '' ? 'in no namespace' : `in namespace ${stray.ns}`;
  const version = ctx.generation === '0.9' ? '0.9' : `${ctx.generation}.x`;
  return `the envelope holds no VirtualSystem in its namespace ${ctx.ns}: its <${stray.name}> is ${where}, which OVF ${version} does not allow`;
}

function readVirtualSystem(
  vs: XmlElement,
  ctx: Ctx,
  options: OvfDeploymentOption[],
  hwBase: Omit<HardwareContext, 'field'>,
): OvfVirtualSystem {
  const id = attr(vs, ctx.ns, 'id') ?? '';
  const field = `descriptor.VirtualSystem[${id}]`;
  const hwSections = sections(vs, ctx, 'VirtualHardwareSection');
  if (hwSections.length > 1) ctx.problems.warn(`${field}: ${hwSections.length} VirtualHardwareSections; the first is used`);
  const section = hwSections[0];
  if (!section) ctx.problems.error(`${field}.VirtualHardwareSection`, 'is missing');
  const hwCtx = { ...hwBase, field: `${field}.VirtualHardwareSection` };
  const empty = { controllers: [], disks: [], nics: [], systemTypes: [] };
  const defaultId = options.find((o) => o.default)?.id;
  const hardware = section ? readHardware(section, defaultId, hwCtx) : empty;
  // Other configurations re-read the same items; their warnings would only repeat the default's.
  const quiet = { ...hwCtx, problems: new Problems() };
  const otherConfigurations = section ? options.filter((o) => !o.default).map((o) => readHardware(section, o.id, quiet)) : [];
  for (const e of quiet.problems.errors) ctx.problems.error(e.field, e.reason);

  const osSection = sections(vs, ctx, 'OperatingSystemSection')[0];
  const name = textOf(vs, ctx, 'Name');
  warnUnknownSections(vs, ctx, field);
  return {
    id,
    ...(name && { name }),
    ...(osSection && { os: readOs(osSection, ctx, field) }),
    hardware,
    otherConfigurations,
    products: sections(vs, ctx, 'ProductSection').map((p) => readProduct(p, ctx)),
  };
}

function readOs(el: XmlElement, ctx: Ctx, field: string): NonNullable<OvfVirtualSystem['os']> {
  const cimId = parseCount(attr(el, ctx.ns, 'id'), `${field}.OperatingSystemSection.id`, ctx.problems);
  const description = textOf(el, ctx, 'Description');
  const toolType =
    el.attrs.get(`{${VMW_NS}}osType`) ?? el.children.find((c) => c.ns === VBOX_NS && c.name === 'OSType')?.text.trim();
  return { ...(cimId !== undefined && { cimId }), ...(description && { description }), ...(toolType && { toolType }) };
}

function readProduct(el: XmlElement, ctx: Ctx): OvfProduct {
  const text = (name: string) => textOf(el, ctx, name);
  const cls = attr(el, ctx.ns, 'class');
  const fields = { product: text('Product'), vendor: text('Vendor'), version: text('Version'), fullVersion: text('FullVersion') };
  return {
    ...(cls !== undefined && { class: cls }),
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    properties: sections(el, ctx, 'Property').map((p) => {
      const type = attr(p, ctx.ns, 'type');
      const value = attr(p, ctx.ns, 'value');
      return {
        key: attr(p, ctx.ns, 'key') ?? '',
        ...(type !== undefined && { type }),
        ...(value !== undefined && { value }),
        userConfigurable: attr(p, ctx.ns, 'userConfigurable') === 'true',
        password: attr(p, ctx.ns, 'password') === 'true',
      };
    }),
  };
}

/** An importer must not silently skip a section it does not understand unless the writer said it may. */
function warnUnknownSections(el: XmlElement, ctx: Ctx, where: string): void {
  for (const c of el.children) {
    const name = isOvf(c, ctx) ? sectionName(c) : c.name;
    if (isOvf(c, ctx) && KNOWN_SECTIONS.has(name)) continue;
    if (attr(c, ctx.ns, 'required') === 'false') continue;
    ctx.problems.warn(`${where}: section {${c.ns}}${name} is not understood and is ignored`);
  }
}
