/**
 * An independent reader of OCCI text renderings, written from GFD.229's ABNF (§5, "text/plain" and
 * "text/occi") and not from skygate's renderer: each production below is the grammar's, matched strictly,
 * and anything outside it throws naming the production. Used by tests to check what the front renders.
 */

// GFD.229 §5.2 / §5.3 productions (RFC 5234 core rules; quoted-string as RFC 7230 §3.2.6).
const LOALPHA = 'a-z';
const TERM = new RegExp(`^[${LOALPHA}0-9][${LOALPHA}0-9_-]*$`);
const ATTR_COMPONENT = `[${LOALPHA}][${LOALPHA}0-9_-]*`;
const ATTRIBUTE_NAME = new RegExp(`^${ATTR_COMPONENT}(?:\\.${ATTR_COMPONENT})*$`);
/** scheme = URI with a fragment delimiter at the end; type-identifier = scheme term. */
const SCHEME = /^[a-z][a-z0-9+.-]*:[^\s"#]*#$/i;
const TYPE_IDENTIFIER = /^[a-z][a-z0-9+.-]*:[^\s"#]*#[a-z0-9][a-z0-9_-]*$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export type TextValue = string | number | boolean;

export interface TextCategory {
  term: string;
  scheme: string;
  class: 'kind' | 'mixin' | 'action';
  title?: string;
  rel?: string[];
  location?: string;
  attributes?: Array<{ name: string; immutable: boolean; required: boolean }>;
  actions?: string[];
}

export interface TextLink {
  target: string;
  rel: string[];
  self?: string;
  category?: string[];
  attributes: Record<string, TextValue>;
}

export interface TextRendering {
  categories: TextCategory[];
  links: TextLink[];
  attributes: Record<string, TextValue>;
  locations: string[];
}

class Cursor {
  at = 0;
  constructor(
    readonly s: string,
    readonly what: string,
  ) {}
  fail(why: string): never {
    throw new Error(`${this.what}: ${why} at offset ${this.at} of '${this.s}'`);
  }
  done() {
    return this.at >= this.s.length;
  }
  peek() {
    return this.s[this.at];
  }
  expect(lit: string) {
    if (!this.s.startsWith(lit, this.at)) this.fail(`expected '${lit}'`);
    this.at += lit.length;
  }
  /** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE */
  quoted(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const ch = this.s[this.at];
      if (ch === undefined) this.fail('unterminated quoted-string');
      this.at++;
      if (ch === '"') return out;
      if (ch === '\\') {
        const next = this.s[this.at];
        if (next === undefined) this.fail('dangling quoted-pair');
        out += next;
        this.at++;
      } else out += ch;
    }
  }
  /** token-ish run up to one of `stops` */
  until(stops: string): string {
    const start = this.at;
    while (this.at < this.s.length && !stops.includes(this.s[this.at] as string)) this.at++;
    return this.s.slice(start, this.at);
  }
}

/** category-value = term ";" "scheme=" <"> scheme <"> ";" "class=" ( class / <"> class <"> ) [...] in this order. */
export function parseCategoryValue(value: string): TextCategory {
  const c = new Cursor(value, 'category-value');
  const term = c.until(';');
  if (!TERM.test(term)) c.fail(`'${term}' is not a term`);
  c.expect(';scheme=');
  const scheme = c.quoted();
  if (!SCHEME.test(scheme)) c.fail(`'${scheme}' is not a scheme`);
  c.expect(';class=');
  const cls = c.peek() === '"' ? c.quoted() : c.until(';');
  if (cls !== 'kind' && cls !== 'mixin' && cls !== 'action') c.fail(`'${cls}' is not a class`);
  const out: TextCategory = { term, scheme, class: cls as TextCategory['class'] };
  // The optional parameters, each at most once, in the grammar's order.
  const order = ['title', 'rel', 'location', 'attributes', 'actions'];
  let last = -1;
  while (!c.done()) {
    c.expect(';');
    if (c.done()) break; // a trailing ';' as rOCCI writes it
    const name = c.until('=');
    const idx = order.indexOf(name);
    if (idx < 0) c.fail(`unknown category parameter '${name}'`);
    if (idx <= last) c.fail(`parameter '${name}' out of the grammar's order`);
    last = idx;
    c.expect('=');
    const v = c.quoted();
    if (name === 'title') out.title = v;
    if (name === 'location') out.location = v;
    if (name === 'rel' || name === 'actions') {
      const ids = v.split(' ');
      for (const id of ids) if (!TYPE_IDENTIFIER.test(id)) c.fail(`'${id}' is not a type-identifier`);
      if (name === 'rel') out.rel = ids;
      else out.actions = ids;
    }
    if (name === 'attributes') out.attributes = parseAttributeList(v);
  }
  return out;
}

/** attribute-list = attribute-def *( SP attribute-def ); attribute-def = attribute-name [ "{" property *( SP property ) "}" ] */
function parseAttributeList(v: string): TextCategory['attributes'] {
  const out: NonNullable<TextCategory['attributes']> = [];
  const re = /([^\s{]+)(?:\{([a-z ]+)\})?(?: |$)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  for (;;) {
    re.lastIndex = at;
    m = re.exec(v);
    if (!m) break;
    const [, name, props] = m as unknown as [string, string, string | undefined];
    if (!ATTRIBUTE_NAME.test(name)) throw new Error(`attribute-list: '${name}' is not an attribute-name in '${v}'`);
    const list = props?.split(' ') ?? [];
    for (const p of list) if (p !== 'immutable' && p !== 'required') throw new Error(`attribute-list: unknown property '${p}'`);
    out.push({ name, immutable: list.includes('immutable'), required: list.includes('required') });
    at = re.lastIndex;
    if (at >= v.length) break;
  }
  if (at < v.length) throw new Error(`attribute-list: cannot read '${v.slice(at)}'`);
  return out;
}

/** attribute-value = string / number / bool (GFD.229 §5.4) */
function parseValue(c: Cursor): TextValue {
  if (c.peek() === '"') return c.quoted();
  const raw = c.until(';,');
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (NUMBER.test(raw)) return Number(raw);
  return c.fail(`'${raw}' is neither a string, a number nor a boolean`);
}

/** attribute-value-line = attribute-name "=" value */
export function parseAttributeValue(value: string): [string, TextValue] {
  const c = new Cursor(value, 'x-occi-attribute');
  const name = c.until('=');
  if (!ATTRIBUTE_NAME.test(name)) c.fail(`'${name}' is not an attribute-name`);
  c.expect('=');
  const v = parseValue(c);
  if (!c.done()) c.fail('trailing characters');
  return [name, v];
}

/** link-value = "<" URI-reference ">" ";rel=" <"> type-identifier-list <"> [";self=" <"> URI <">] [";category=" <"> list <">] *( ";" attribute ) */
export function parseLinkValue(value: string): TextLink {
  const c = new Cursor(value, 'link-value');
  c.expect('<');
  const target = c.until('>');
  if (target === '' || /\s/.test(target)) c.fail('empty or spaced URI-reference');
  c.expect('>;rel=');
  const rel = c.quoted().split(' ');
  for (const r of rel) if (!TYPE_IDENTIFIER.test(r)) c.fail(`'${r}' is not a type-identifier`);
  const link: TextLink = { target, rel, attributes: {} };
  if (value.startsWith(';self=', c.at)) {
    c.expect(';self=');
    link.self = c.quoted();
  }
  if (value.startsWith(';category=', c.at)) {
    c.expect(';category=');
    link.category = c.quoted().split(' ');
    for (const id of link.category) if (!TYPE_IDENTIFIER.test(id)) c.fail(`'${id}' is not a type-identifier`);
  }
  while (!c.done()) {
    c.expect(';');
    const name = c.until('=');
    if (!ATTRIBUTE_NAME.test(name)) c.fail(`'${name}' is not an attribute-name`);
    c.expect('=');
    link.attributes[name] = parseValue(c);
  }
  return link;
}

function add(out: TextRendering, name: string, value: string) {
  switch (name.toLowerCase()) {
    case 'category':
      out.categories.push(parseCategoryValue(value));
      break;
    case 'link':
      out.links.push(parseLinkValue(value));
      break;
    case 'x-occi-attribute': {
      const [k, v] = parseAttributeValue(value);
      if (k in out.attributes) throw new Error(`x-occi-attribute: ${k} twice`);
      out.attributes[k] = v;
      break;
    }
    case 'x-occi-location':
      if (!/^https?:\/\/\S+$/.test(value)) throw new Error(`x-occi-location: '${value}' is not an absolute URI`);
      out.locations.push(value);
      break;
    default:
      throw new Error(`'${name}' is not a GFD.229 header`);
  }
}

/** text/plain: every line is `header-name ":" SP value` (§5.6); blank lines are not allowed between them. */
export function parseTextPlain(body: string): TextRendering {
  const out: TextRendering = { categories: [], links: [], attributes: {}, locations: [] };
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 1 && lines[0] === 'OK') return out;
  for (const line of lines) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (!m) throw new Error(`text/plain: '${line}' is not 'Name: value'`);
    add(out, m[1] as string, m[2] as string);
  }
  return out;
}

/** Splits a folded header (RFC 7230 §3.2.2: values joined with ',') outside quoted-strings and <URI>s. */
function unfold(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angled = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (quoted && ch === '\\') {
      cur += ch + (value[++i] ?? '');
      continue;
    }
    if (ch === '"' && !angled) quoted = !quoted;
    else if (!quoted && ch === '<') angled = true;
    else if (!quoted && ch === '>') angled = false;
    if (ch === ',' && !quoted && !angled) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** text/occi: the same values in HTTP headers (a Headers object as fetch gives it). */
export function parseTextOcci(headers: Headers): TextRendering {
  const out: TextRendering = { categories: [], links: [], attributes: {}, locations: [] };
  for (const name of ['category', 'link', 'x-occi-attribute', 'x-occi-location']) {
    const v = headers.get(name);
    if (v !== null) for (const one of unfold(v)) add(out, name, one);
  }
  return out;
}
