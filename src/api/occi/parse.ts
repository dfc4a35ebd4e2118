/**
 * Reads an OCCI request in any rendering into one shape: its categories, attributes and (for an action)
 * the action. Text follows GFD.229's grammar (Category, X-OCCI-Attribute, Link, X-OCCI-Location), JSON
 * GFD.225's; anything else is a 400 naming the line or field at fault.
 */
import type { AttributeValue } from './entities.js';
import { badRequest } from './errors.js';
import type { Rendering } from './render.js';

export interface ParsedCategory {
  term: string;
  scheme: string;
  class: 'kind' | 'mixin' | 'action';
  title?: string;
  location?: string;
}

/** An inline link of a resource request (GFD.229 `Link:` line, GFD.225 `links` entry); action links are left out. */
export interface ParsedLink {
  /** The target's location as given (relative or absolute). */
  target: string;
  /** The link's kind (category identifier), where the request names one. */
  kind?: string;
  mixins: string[];
  attributes: Record<string, AttributeValue>;
  /** Where it was in the request, for messages (`Link 1`, `links[0]`). */
  where: string;
}

export interface OcciRequest {
  categories: ParsedCategory[];
  attributes: Record<string, AttributeValue>;
  /** X-OCCI-Location lines or a JSON list of locations (mixin association). */
  locations: string[];
  links: ParsedLink[];
}

export const EMPTY_REQUEST: OcciRequest = { categories: [], attributes: {}, locations: [], links: [] };

const TERM = /^[a-z0-9][a-z0-9_-]*$/;
const ATTR_NAME = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/i;

/** Splits on `sep` outside double quotes (a quoted string may contain `\"`). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (quoted && ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === sep) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quoted) throw badRequest(`unterminated quoted string in '${s}'`);
  out.push(cur);
  return out;
}

function unquote(raw: string, what: string): string {
  const s = raw.trim();
  if (s.length < 2 || !s.startsWith('"') || !s.endsWith('"')) throw badRequest(`${what}: expected a quoted string, got '${raw}'`);
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

function parseCategory(value: string): ParsedCategory {
  const [termRaw, ...params] = splitOutsideQuotes(value, ';');
  const term = (termRaw ?? '').trim();
  if (!TERM.test(term)) throw badRequest(`Category '${value}': '${term}' is not a term (lower-case letters, digits, - and _)`);
  const p: Record<string, string> = {};
  for (const param of params) {
    if (param.trim() === '') continue;
    const eq = param.indexOf('=');
    if (eq < 0) throw badRequest(`Category '${value}': parameter '${param.trim()}' has no value`);
    const name = param.slice(0, eq).trim();
    p[name] = unquote(param.slice(eq + 1), `Category ${term} ${name}`);
  }
  if (p.scheme === undefined) throw badRequest(`Category '${value}': scheme is required`);
  if (!p.scheme.endsWith('#')) throw badRequest(`Category '${value}': a scheme ends with '#'`);
  if (p.class !== 'kind' && p.class !== 'mixin' && p.class !== 'action') {
    throw badRequest(`Category '${value}': class must be kind, mixin or action`);
  }
  return {
    term,
    scheme: p.scheme,
    class: p.class,
    ...(p.title !== undefined && { title: p.title }),
    ...(p.location !== undefined && { location: p.location }),
  };
}

function parseAttribute(value: string): [string, AttributeValue] {
  const eq = value.indexOf('=');
  if (eq < 0) throw badRequest(`X-OCCI-Attribute '${value}': expected name=value`);
  const name = value.slice(0, eq).trim();
  if (!ATTR_NAME.test(name)) throw badRequest(`X-OCCI-Attribute '${value}': '${name}' is not an attribute name`);
  const raw = value.slice(eq + 1).trim();
  if (raw.startsWith('"')) return [name, unquote(raw, `X-OCCI-Attribute ${name}`)];
  if (raw === 'true' || raw === 'false') return [name, raw === 'true'];
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return [name, Number(raw)];
  throw badRequest(`X-OCCI-Attribute ${name}: '${raw}' is neither a quoted string, a number nor a boolean`);
}

const CATEGORY_ID = /^[^\s#]+#[a-z0-9][a-z0-9_-]*$/;

/**
 * `<target>;rel="<kind>";self="…";category="<kind> <mixin>…";name=value…` (GFD.229 §5.5). A link whose rel is an
 * action (`…/action#…`, as a client sends back with what it read) names no link: undefined.
 */
function parseLink(value: string, where: string): ParsedLink | undefined {
  const [head, ...params] = splitOutsideQuotes(value, ';');
  const m = /^\s*<([^<>\s]+)>\s*$/.exec(head ?? '');
  if (!m?.[1]) throw badRequest(`${where} '${value}': expected <target> first`);
  const link: ParsedLink = { target: m[1], mixins: [], attributes: {}, where };
  let rel: string | undefined;
  for (const param of params) {
    if (param.trim() === '') continue;
    const eq = param.indexOf('=');
    if (eq < 0) throw badRequest(`${where} '${value}': parameter '${param.trim()}' has no value`);
    const name = param.slice(0, eq).trim();
    if (name === 'rel') rel = unquote(param.slice(eq + 1), `${where} rel`);
    else if (name === 'self') unquote(param.slice(eq + 1), `${where} self`);
    else if (name === 'category') {
      const ids = unquote(param.slice(eq + 1), `${where} category`)
        .split(/\s+/)
        .filter((id) => id !== '');
      for (const id of ids)
        if (!CATEGORY_ID.test(id)) throw badRequest(`${where} category: '${id}' is not a category identifier`);
      // GFD.229: the link's kind first, then its mixins.
      [link.kind, ...link.mixins] = ids;
    } else {
      const [k, v] = parseAttribute(param.trim());
      if (k in link.attributes) throw badRequest(`${where} attribute ${k}: given twice`);
      link.attributes[k] = v;
    }
  }
  if (rel === undefined) throw badRequest(`${where} '${value}': rel is required`);
  return /\/action#/.test(rel) ? undefined : link;
}

/** Text lines (`Name: value`) from a text/plain body or from text/occi headers, into the request. */
export function parseTextLines(lines: Array<[string, string]>): OcciRequest {
  const req: OcciRequest = { categories: [], attributes: {}, locations: [], links: [] };
  for (const [name, value] of lines) {
    const lower = name.toLowerCase();
    // text/occi may fold several values into one header, comma-separated (outside quotes).
    const values = splitOutsideQuotes(value, ',').map((v) => v.trim());
    for (const v of values) {
      if (v === '') continue;
      if (lower === 'category') req.categories.push(parseCategory(v));
      else if (lower === 'x-occi-attribute') {
        const [k, val] = parseAttribute(v);
        if (k in req.attributes) throw badRequest(`X-OCCI-Attribute ${k}: given twice`);
        req.attributes[k] = val;
      } else if (lower === 'x-occi-location') req.locations.push(v);
      else if (lower === 'link') {
        const link = parseLink(v, `Link ${req.links.length + 1}`);
        if (link) req.links.push(link);
      }
    }
  }
  return req;
}

const TEXT_HEADERS = ['category', 'x-occi-attribute', 'x-occi-location', 'link'];

export function parseTextBody(body: string): OcciRequest {
  const lines: Array<[string, string]> = [];
  for (const [n, raw] of body.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line === 'OK') continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!TEXT_HEADERS.includes(name.toLowerCase()))
      throw badRequest(`line ${n + 1}: '${line}' is not a Category, X-OCCI-Attribute, Link or X-OCCI-Location line`);
    lines.push([name, line.slice(colon + 1).trim()]);
  }
  return parseTextLines(lines);
}

export function parseTextHeaders(headers: Record<string, string | string[] | undefined>): OcciRequest {
  const lines: Array<[string, string]> = [];
  for (const name of ['category', 'x-occi-attribute', 'x-occi-location', 'link']) {
    const v = headers[name];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) lines.push([name, one]);
  }
  return parseTextLines(lines);
}

function splitCategoryId(id: unknown, cls: ParsedCategory['class'], field: string): ParsedCategory {
  if (typeof id !== 'string' || !id.includes('#'))
    throw badRequest(`${field}: '${String(id)}' is not a category identifier (scheme#term)`);
  const at = id.indexOf('#') + 1;
  const term = id.slice(at);
  if (!TERM.test(term)) throw badRequest(`${field}: '${term}' is not a term`);
  return { scheme: id.slice(0, at), term, class: cls };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A GFD.225 document: a resource, an action instance, mixin definitions or mixin identifiers, or a location list. */
export function parseJson(body: string): OcciRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    throw badRequest(`the body is not JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(doc)) {
    if (!doc.every((l) => typeof l === 'string')) throw badRequest('a location list holds strings only');
    return { ...EMPTY_REQUEST, locations: doc as string[] };
  }
  if (!isObject(doc)) throw badRequest('the body must be a JSON object');
  const req: OcciRequest = { categories: [], attributes: {}, locations: [], links: [] };
  if (doc.kind !== undefined) req.categories.push(splitCategoryId(doc.kind, 'kind', 'kind'));
  if (doc.action !== undefined) req.categories.push(splitCategoryId(doc.action, 'action', 'action'));
  if (doc.mixins !== undefined) {
    if (!Array.isArray(doc.mixins)) throw badRequest('mixins: must be an array');
    for (const [i, m] of doc.mixins.entries()) {
      if (isObject(m)) {
        // A mixin definition (POST /-/): term, scheme and optionally title and location.
        const c = splitCategoryId(`${String(m.scheme)}${String(m.term)}`, 'mixin', `mixins[${i}]`);
        req.categories.push({
          ...c,
          ...(typeof m.title === 'string' && { title: m.title }),
          ...(typeof m.location === 'string' && { location: m.location }),
        });
      } else req.categories.push(splitCategoryId(m, 'mixin', `mixins[${i}]`));
    }
  }
  if (doc.attributes !== undefined) {
    if (!isObject(doc.attributes)) throw badRequest('attributes: must be an object');
    for (const [k, v] of Object.entries(doc.attributes)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw badRequest(`attributes.${k}: skygate takes strings, numbers and booleans only`);
      }
      req.attributes[k] = v;
    }
  }
  if (doc.links !== undefined) {
    if (!Array.isArray(doc.links)) throw badRequest('links: must be an array');
    for (const [i, l] of doc.links.entries()) req.links.push(jsonLink(l, `links[${i}]`));
  }
  return req;
}

/** A GFD.225 link in a resource: kind, mixins, attributes and `target: { location, kind }` (a bare location too). */
function jsonLink(l: unknown, where: string): ParsedLink {
  if (!isObject(l)) throw badRequest(`${where}: must be an object`);
  const target = isObject(l.target)
    ? l.target.location
    : (l.target ?? (isObject(l.attributes) ? l.attributes['occi.core.target'] : undefined));
  if (typeof target !== 'string' || target === '')
    throw badRequest(`${where}.target: the location of the link's target is required`);
  const link: ParsedLink = { target, mixins: [], attributes: {}, where };
  if (l.kind !== undefined) link.kind = categoryIdOf(splitCategoryId(l.kind, 'kind', `${where}.kind`));
  if (l.mixins !== undefined) {
    if (!Array.isArray(l.mixins)) throw badRequest(`${where}.mixins: must be an array`);
    link.mixins = l.mixins.map((m, k) => categoryIdOf(splitCategoryId(m, 'mixin', `${where}.mixins[${k}]`)));
  }
  if (l.attributes !== undefined) {
    if (!isObject(l.attributes)) throw badRequest(`${where}.attributes: must be an object`);
    for (const [k, v] of Object.entries(l.attributes)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw badRequest(`${where}.attributes.${k}: skygate takes strings, numbers and booleans only`);
      }
      link.attributes[k] = v;
    }
  }
  return link;
}

const categoryIdOf = (c: ParsedCategory) => `${c.scheme}${c.term}`;

/** The request in the rendering its Content-Type names; text/occi reads the headers only. */
export function parseRequest(as: Rendering, body: string, headers: Record<string, string | string[] | undefined>): OcciRequest {
  if (as === 'json') return body.trim() === '' ? EMPTY_REQUEST : parseJson(body);
  if (as === 'occi') return parseTextHeaders(headers);
  if (as === 'uri-list') {
    return {
      ...EMPTY_REQUEST,
      locations: body
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    };
  }
  // text/plain: the body, plus any headers a client sent the text/occi way.
  const fromBody = parseTextBody(body);
  const fromHeaders = parseTextHeaders(headers);
  return {
    categories: [...fromHeaders.categories, ...fromBody.categories],
    attributes: { ...fromHeaders.attributes, ...fromBody.attributes },
    locations: [...fromHeaders.locations, ...fromBody.locations],
    links: [...fromHeaders.links, ...fromBody.links],
  };
}
