/**
 * The four OCCI renderings of what the front answers: application/occi+json (GFD.225), text/plain and
 * text/occi (GFD.229: the same lines in the body or as headers) and text/uri-list (locations only).
 */
import { type AttributeDef, type Category, idOf } from './categories.js';
import type { AttributeValue, OcciLink, OcciResource } from './entities.js';

export type Rendering = 'json' | 'plain' | 'occi' | 'uri-list';

/** An answer as header lines and a body; text/occi moves the lines into headers. */
export interface Rendered {
  lines: Array<[string, string]>;
  /** A Buffer when already encoded (a kept page). */
  body?: string | Buffer;
}

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const value = (v: AttributeValue) => (typeof v === 'string' ? quote(v) : String(v));
const nonEmpty = <T>(a: T[] | undefined) => (a && a.length > 0 ? a : undefined);

// --- text (GFD.229)

function splitId(id: string): { term: string; scheme: string } {
  const at = id.indexOf('#') + 1;
  return { scheme: id.slice(0, at), term: id.slice(at) };
}

function categoryLine(c: Category, full: boolean): string {
  let line = `${c.term};scheme=${quote(c.scheme)};class=${quote(c.class)}`;
  if (!full) return line;
  if (c.title !== undefined) line += `;title=${quote(c.title)}`;
  const rel = c.parent !== undefined ? [c.parent] : [...(c.depends ?? []), ...(c.applies ?? [])];
  if (rel.length > 0) line += `;rel=${quote(rel.join(' '))}`;
  if (c.location !== undefined) line += `;location=${quote(c.location)}`;
  const attrs = Object.entries(c.attributes ?? {}).map(([name, def]) => name + attributeFlags(def));
  if (attrs.length > 0) line += `;attributes=${quote(attrs.join(' '))}`;
  if (c.actions?.length) line += `;actions=${quote(c.actions.join(' '))}`;
  return line;
}

function attributeFlags(def: AttributeDef): string {
  const flags = [...(def.mutable ? [] : ['immutable']), ...(def.required ? ['required'] : [])];
  return flags.length > 0 ? `{${flags.join(' ')}}` : '';
}

function linkLine(l: OcciLink): string {
  const attrs = Object.entries(l.attributes)
    .map(([k, v]) => `;${k}=${value(v)}`)
    .join('');
  return `<${l.target.location}>;rel=${quote(l.target.kind)};self=${quote(l.location)};category=${quote([l.kind, ...l.mixins].join(' '))}${attrs}`;
}

function resourceLines(r: OcciResource): Array<[string, string]> {
  const lines: Array<[string, string]> = [['Category', categoryLine({ ...splitId(r.kind), class: 'kind' }, false)]];
  for (const m of r.mixins) lines.push(['Category', categoryLine({ ...splitId(m), class: 'mixin' }, false)]);
  for (const [k, v] of Object.entries(r.attributes)) lines.push(['X-OCCI-Attribute', `${k}=${value(v)}`]);
  for (const a of r.actions) lines.push(['Link', `<${a.href}>;rel=${quote(a.id)}`]);
  for (const l of r.links) lines.push(['Link', linkLine(l)]);
  return lines;
}

function linkEntityLines(l: OcciLink): Array<[string, string]> {
  const lines: Array<[string, string]> = [['Category', categoryLine({ ...splitId(l.kind), class: 'kind' }, false)]];
  for (const m of l.mixins) lines.push(['Category', categoryLine({ ...splitId(m), class: 'mixin' }, false)]);
  for (const [k, v] of Object.entries(l.attributes)) lines.push(['X-OCCI-Attribute', `${k}=${value(v)}`]);
  return lines;
}

// --- JSON (GFD.225)

function attributeDefsJson(attrs: Record<string, AttributeDef> | undefined) {
  if (!attrs || Object.keys(attrs).length === 0) return undefined;
  return Object.fromEntries(Object.entries(attrs).map(([k, d]) => [k, { ...d }]));
}

function categoryJson(c: Category): Record<string, unknown> {
  return {
    term: c.term,
    scheme: c.scheme,
    ...(c.title !== undefined && { title: c.title }),
    ...(attributeDefsJson(c.attributes) && { attributes: attributeDefsJson(c.attributes) }),
    ...(c.class !== 'action' && nonEmpty(c.actions) && { actions: c.actions }),
    ...(c.class === 'kind' && c.parent !== undefined && { parent: c.parent }),
    ...(c.class === 'mixin' && nonEmpty(c.depends) && { depends: c.depends }),
    ...(c.class === 'mixin' && nonEmpty(c.applies) && { applies: c.applies }),
    ...(c.class !== 'action' && { location: c.location ?? `/${c.term}/` }),
  };
}

export function linkJson(l: OcciLink): Record<string, unknown> {
  return {
    kind: l.kind,
    ...(nonEmpty(l.mixins) && { mixins: l.mixins }),
    attributes: l.attributes,
    id: l.id,
    source: l.source,
    target: l.target,
    ...(l.title !== undefined && { title: l.title }),
  };
}

export function resourceJson(r: OcciResource): Record<string, unknown> {
  return {
    kind: r.kind,
    ...(nonEmpty(r.mixins) && { mixins: r.mixins }),
    attributes: r.attributes,
    ...(nonEmpty(r.actions) && { actions: r.actions.map((a) => a.id) }),
    id: r.id,
    ...(nonEmpty(r.links) && { links: r.links.map(linkJson) }),
    ...(r.title !== undefined && { title: r.title }),
    ...(r.summary !== undefined && { summary: r.summary }),
  };
}

/**
 * A resource as a collection lists it: without its inline links and actions (GET the entity for them), which
 * are half the bytes of a compute; a listing of thousands is read for what the entities are, not what they do.
 */
export const collectionItemJson = (r: OcciResource) => JSON.stringify(resourceJson({ ...r, links: [], actions: [] }));

// --- what the handlers render

/** The query interface: every category, in full. */
export function renderModel(categories: Category[], as: Rendering): Rendered {
  if (as === 'json') {
    const of = (cls: Category['class']) => nonEmpty(categories.filter((c) => c.class === cls).map(categoryJson));
    const kinds = of('kind');
    const mixins = of('mixin');
    const actions = of('action');
    return {
      lines: [],
      body: JSON.stringify({ ...(kinds && { kinds }), ...(mixins && { mixins }), ...(actions && { actions }) }),
    };
  }
  if (as === 'uri-list')
    return { lines: [], body: uriList(categories.filter((c) => c.location).map((c) => c.location as string)) };
  return { lines: categories.map((c) => ['Category', categoryLine(c, true)]) };
}

export function renderResource(r: OcciResource, as: Rendering): Rendered {
  if (as === 'json') return { lines: [], body: JSON.stringify(resourceJson(r)) };
  if (as === 'uri-list') return { lines: [], body: uriList([r.location]) };
  return { lines: resourceLines(r) };
}

export function renderLink(l: OcciLink, as: Rendering): Rendered {
  if (as === 'json') return { lines: [], body: JSON.stringify(linkJson(l)) };
  if (as === 'uri-list') return { lines: [], body: uriList([l.location]) };
  return { lines: linkEntityLines(l) };
}

/**
 * A collection: full entities in JSON, locations in the text renderings (GFD.229's X-OCCI-Location).
 * `base` makes the text renderings' locations absolute, as text/uri-list requires.
 */
export function renderCollection(
  entities: Array<{ location: string; json: () => string }>,
  key: 'resources' | 'links',
  as: Rendering,
  base: string,
): Rendered {
  if (as === 'json') {
    // The schema wants at least one item in an array, so an empty collection is `{}`.
    return {
      lines: [],
      body: entities.length === 0 ? '{}' : `{"${key}":[${entities.map((e) => e.json()).join(',')}]}`,
    };
  }
  if (as === 'uri-list') return { lines: [], body: uriList(entities.map((e) => base + e.location)) };
  return { lines: entities.map((e) => ['X-OCCI-Location', base + e.location]) };
}

/** A collection of links (storagelinks, networkinterfaces): the links whole in JSON, their locations in text. */
export function renderLinkCollection(links: OcciLink[], as: Rendering, base: string): Rendered {
  return renderCollection(
    links.map((l) => ({ location: l.location, json: () => JSON.stringify(linkJson(l)) })),
    'links',
    as,
    base,
  );
}

/** The categories of a mixin (save's answer), in brief. */
export function renderCategories(categories: Category[], as: Rendering): Rendered {
  if (as === 'json') {
    return { lines: [], body: JSON.stringify({ mixins: categories.filter((c) => c.class === 'mixin').map(idOf) }) };
  }
  if (as === 'uri-list')
    return { lines: [], body: uriList(categories.filter((c) => c.location).map((c) => c.location as string)) };
  return { lines: categories.map((c) => ['Category', categoryLine(c, true)]) };
}

const uriList = (uris: string[]) => uris.map((u) => `${u}\r\n`).join('');

/** A text/plain body from header lines (GFD.229 §5: one `Name: value` per line). */
export const plainBody = (lines: Array<[string, string]>) => lines.map(([k, v]) => `${k}: ${v}\n`).join('');
