/**
 * Hardened XML for OVF descriptors: refuses DTDs and entity declarations before parsing, never expands
 * entities beyond XML's five predefined ones, caps the size, and resolves namespaces into a small tree.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { SkygateError, invalid } from '../core/errors.js';

/** An element with its namespace resolved: `ns` is the namespace URI ('' for none). */
export interface XmlElement {
  ns: string;
  name: string;
  /** Attributes keyed `{uri}local`, or `local` when unqualified. */
  attrs: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** Descriptors are small (the largest real ones are tens of KiB); anything far beyond is not an OVF. */
export const MAX_DESCRIPTOR_BYTES = 4 * 1024 * 1024;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Anything outside XML 1.0's Char production (section 2.2): most C0 controls, lone surrogates, U+FFFE and U+FFFF. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const hex = (n: number) => `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** The first character of `text` that XML 1.0 cannot carry, even as a character reference, as `U+XXXX`. */
export function firstNonXmlChar(text: string): string | undefined {
  const m = NOT_XML_CHAR.exec(text);
  return m ? hex(m[0].codePointAt(0) ?? 0) : undefined;
}
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Off: fast-xml-parser would otherwise honour DOCTYPE entities; the five predefined ones are decoded below.
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  cdataPropName: '#cdata',
  commentPropName: false,
  ignorePiTags: true,
  maxNestedTags: 64,
});

type Node = Record<string, unknown>;

/**
 * Parses `input` into a namespace-resolved element tree. Throws `invalid_input` (field `descriptor`) for
 * a DTD or entity declaration, an oversized or malformed document, an undefined entity or an undeclared prefix.
 */
export function parseXml(input: string | Buffer, maxBytes = MAX_DESCRIPTOR_BYTES): XmlElement {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw invalid('descriptor', `is ${size} bytes, more than the ${maxBytes} accepted`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  // A raw control character (ESC, NUL...) makes the document not well-formed; say which and where.
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const at = bad.index;
    throw invalid('descriptor', `contains ${hex(bad[0].codePointAt(0) ?? 0)} at character ${at}, which XML 1.0 does not allow`);
  }
  // Refused outright, before any parser sees it: DTDs are how entity bombs and external entities get in.
  if (/<!DOCTYPE/i.test(text)) throw invalid('descriptor', 'contains a DTD (<!DOCTYPE>), which is not accepted');
  if (/<!ENTITY/i.test(text)) throw invalid('descriptor', 'contains an entity declaration (<!ENTITY>), which is not accepted');
  let nodes: Node[];
  try {
    nodes = parser.parse(text, true) as Node[];
  } catch (e) {
    throw invalid('descriptor', `is not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const roots = nodes.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) throw invalid('descriptor', `must have exactly one root element, found ${roots.length}`);
  return resolve(roots[0] as Node, new Map([['xml', XML_NS]]));
}

function elementName(node: Node): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && !k.startsWith('#') && !k.startsWith('?'));
}

function resolve(node: Node, parentScope: Map<string, string>): XmlElement {
  const qname = elementName(node) as string;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  const scope = new Map(parentScope);
  for (const [key, value] of Object.entries(rawAttrs)) {
    const name = key.slice(2);
    if (name === 'xmlns') scope.set('', decodeText(value));
    else if (name.startsWith('xmlns:')) scope.set(name.slice(6), decodeText(value));
  }
  const [prefix, local] = splitQName(qname);
  const ns = scope.get(prefix) ?? (prefix === '' ? '' : undeclared(prefix, qname));
  const attrs = new Map<string, string>();
  for (const [key, value] of Object.entries(rawAttrs)) {
    const name = key.slice(2);
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const [p, l] = splitQName(name);
    // Unprefixed attributes are in no namespace (XML Namespaces 1.0, section 6.2).
    attrs.set(p === '' ? l : `{${scope.get(p) ?? undeclared(p, name)}}${l}`, decodeText(value));
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[qname] ?? []) as Node[]) {
    if ('#text' in child) text += decodeText(String(child['#text']));
    else if ('#cdata' in child) text += ((child['#cdata'] as Node[])[0]?.['#text'] as string | undefined) ?? '';
    else if (elementName(child) !== undefined) children.push(resolve(child, scope));
  }
  return { ns, name: local, attrs, children, text };
}

function splitQName(qname: string): [string, string] {
  const at = qname.indexOf(':');
  return at < 0 ? ['', qname] : [qname.slice(0, at), qname.slice(at + 1)];
}

function undeclared(prefix: string, qname: string): never {
  throw invalid('descriptor', `namespace prefix '${prefix}' of '${qname}' is not declared`);
}

/** Decodes XML's predefined entities and character references; any other entity is an error (there is no DTD to define it). */
export function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,32});/g, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X')) return codePoint(Number.parseInt(ref.slice(2), 16), whole);
    if (ref.startsWith('#')) return codePoint(Number.parseInt(ref.slice(1), 10), whole);
    const value = PREDEFINED[ref];
    if (value === undefined) throw invalid('descriptor', `uses the undefined entity '${whole}'`);
    return value;
  });
}

function codePoint(n: number, whole: string): string {
  if (!Number.isInteger(n) || n <= 0 || n > 0x10ffff)
    throw invalid('descriptor', `has an invalid character reference '${whole}'`);
  const char = String.fromCodePoint(n);
  // A reference is well-formed only to a character XML allows (&#27; or &#xD800; is not one).
  if (NOT_XML_CHAR.test(char))
    throw invalid('descriptor', `has a reference '${whole}' to ${hex(n)}, which XML 1.0 does not allow`);
  return char;
}

// ---------------------------------------------------------------- navigation helpers

export const children = (el: XmlElement, ns: string | readonly string[], name: string): XmlElement[] =>
  el.children.filter((c) => c.name === name && (typeof ns === 'string' ? c.ns === ns : ns.includes(c.ns)));

/** An attribute in namespace `ns`, falling back to the unqualified name that some writers use. */
export const attr = (el: XmlElement, ns: string, name: string): string | undefined =>
  el.attrs.get(`{${ns}}${name}`) ?? el.attrs.get(name);

// ---------------------------------------------------------------- building

/** A node for `buildXml`: a qualified element name, its attributes, and children or text. */
export interface XmlNode {
  name: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  children?: XmlNode[];
  text?: string | number;
}

export const el = (name: string, attrs: XmlNode['attrs'], ...content: Array<XmlNode | string | number | undefined>): XmlNode => {
  const nodes = content.filter((c): c is XmlNode => typeof c === 'object');
  const text = content.find((c) => typeof c === 'string' || typeof c === 'number');
  return { name, attrs, ...(nodes.length > 0 && { children: nodes }), ...(text !== undefined && { text }) };
};

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  // Off: values are escaped by `escapeXml` below, which also writes the whitespace a parser would otherwise normalise.
  processEntities: false,
});

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // As references they survive parsing: a raw CR becomes LF in text, and TAB, LF, CR become spaces in attributes.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * `value` escaped for XML text or an attribute value, so that a parser reads back exactly `value`. Throws
 * `invalid_input` naming `field` for a character XML 1.0 cannot carry at all (ESC, NUL, a lone surrogate...).
 */
export function escapeXml(value: string, field: string): string {
  const bad = firstNonXmlChar(value);
  if (bad !== undefined) throw invalid(field, `contains ${bad}, a character XML 1.0 cannot carry`);
  return value.replace(/[&<>"'\t\n\r]/g, (c) => ESCAPES[c] as string);
}

/** `path` names the element, for errors: `descriptor.Envelope.VirtualSystem.Name`. */
function toOrdered(node: XmlNode, parent: string): Node {
  const path = `${parent}.${node.name.slice(node.name.indexOf(':') + 1)}`;
  const body: Node[] = [];
  if (node.text !== undefined) body.push({ '#text': escapeXml(String(node.text), path) });
  for (const c of node.children ?? []) body.push(toOrdered(c, path));
  const attrs = Object.entries(node.attrs ?? {}).filter(([, v]) => v !== undefined);
  return {
    [node.name]: body,
    ...(attrs.length > 0 && {
      ':@': Object.fromEntries(attrs.map(([k, v]) => [`@_${k}`, escapeXml(String(v), `${path}@${k}`)])),
    }),
  };
}

/** Serialises `root` as a UTF-8 XML document with a declaration; errors name the element as `descriptor.<path>`. */
export function buildXml(root: XmlNode): string {
  if (root.name.length === 0) throw new SkygateError('internal', 'buildXml: the root element needs a name');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${(builder.build([toOrdered(root, 'descriptor')]) as string).trim()}\n`;
}
