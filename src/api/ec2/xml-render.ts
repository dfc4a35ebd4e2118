/**
 * EC2's response XML: `<{Action}Response xmlns=…>` with a requestId, lists as `<name><item>…</item></name>`,
 * booleans as true/false, absent members left out; and the `<Response><Errors>…` error document.
 */

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export type XmlValue = string | number | boolean | undefined | null | RawXml | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

/** Members already rendered (a cached fragment) as UTF-8, written inside their element as they are. */
export class RawXml {
  constructor(readonly bytes: Buffer) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Markup characters, and the control characters XML 1.0 cannot carry at all (shown as U+FFFD). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const SPECIAL = /[&<>"'\x00-\x08\x0b\x0c\x0e-\x1f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const HAS_SPECIAL = /[&<>"'\x00-\x08\x0b\x0c\x0e-\x1f]/;

export function escapeXml(text: string): string {
  // Most values (ids, states, dates) need nothing: testing first spares building a new string.
  return HAS_SPECIAL.test(text) ? text.replace(SPECIAL, (c) => ESCAPES[c] ?? '\ufffd') : text;
}

/**
 * The document as UTF-8 chunks: text is gathered as a string, cached fragments are spliced in as the
 * bytes they already are, so a page of cached resources is a memory copy rather than a re-encoding.
 */
class XmlOut {
  private readonly parts: Buffer[] = [];
  private text = '';

  add(text: string): void {
    this.text += text;
  }

  splice(bytes: Buffer): void {
    if (this.text !== '') this.parts.push(Buffer.from(this.text));
    this.text = '';
    this.parts.push(bytes);
  }

  /** The document's chunks, to write one after another (joining them would only copy a large page). */
  chunks(): Buffer[] {
    if (this.text !== '') this.parts.push(Buffer.from(this.text));
    this.text = '';
    return this.parts;
  }

  done(): Buffer {
    const chunks = this.chunks();
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  }
}

function write(out: XmlOut, name: string, value: XmlValue): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string') out.add(`<${name}>${escapeXml(value)}</${name}>`);
  else if (typeof value !== 'object') out.add(`<${name}>${value}</${name}>`);
  else if (value instanceof RawXml) {
    out.add(`<${name}>`);
    out.splice(value.bytes);
    out.add(`</${name}>`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) out.add(`<${name}/>`);
    else {
      out.add(`<${name}>`);
      for (const item of value) write(out, 'item', item);
      out.add(`</${name}>`);
    }
  } else {
    out.add(`<${name}>`);
    for (const key of Object.keys(value)) write(out, key, value[key] as XmlValue);
    out.add(`</${name}>`);
  }
}

/** A list's `<item>`s without the list's element, to keep as a RawXml fragment. */
export function renderItems(items: XmlValue[]): RawXml {
  const out = new XmlOut();
  for (const item of items) write(out, 'item', item);
  return new RawXml(out.done());
}

/** The members of a structure without its element, to keep as a RawXml fragment. */
export function renderMembers(body: XmlObject): RawXml {
  const out = new XmlOut();
  for (const key of Object.keys(body)) write(out, key, body[key] as XmlValue);
  return new RawXml(out.done());
}

/**
 * Rendered structures by id, reused while the parts they were rendered from are the same (`===`: strings
 * by value, objects by identity). The parts must cover everything the rendering reads.
 */
export class FragmentCache {
  private readonly entries = new Map<string, { parts: readonly unknown[]; xml: RawXml }>();

  constructor(private readonly limit = 50_000) {}

  clear(): void {
    this.entries.clear();
  }

  /** The fragment of `id` if it was rendered from the same parts. */
  get(id: string, parts: readonly unknown[]): RawXml | undefined {
    const hit = this.entries.get(id);
    if (!hit || hit.parts.length !== parts.length) return undefined;
    for (let i = 0; i < parts.length; i++) if (hit.parts[i] !== parts[i]) return undefined;
    return hit.xml;
  }

  /** Renders `body` once (a structure's members, or a list's items) and keeps it for `id`. */
  put(id: string, parts: readonly unknown[], body: XmlObject | RawXml): RawXml {
    if (this.entries.size >= this.limit) this.entries.clear();
    const xml = body instanceof RawXml ? body : renderMembers(body);
    this.entries.set(id, { parts, xml });
    return xml;
  }
}

/**
 * Whole answers of an action by request key, reused while the parts they were made from are the same (`===`);
 * the parts must cover everything the answer was made from.
 */
export class KeptAnswers {
  private readonly entries = new Map<string, { parts: readonly unknown[]; answer: XmlObject }>();

  constructor(private readonly limit = 100) {}

  clear(): void {
    this.entries.clear();
  }

  get(key: string, parts: readonly unknown[]): XmlObject | undefined {
    const hit = this.entries.get(key);
    if (!hit || hit.parts.length !== parts.length) return undefined;
    for (let i = 0; i < parts.length; i++) if (hit.parts[i] !== parts[i]) return undefined;
    return hit.answer;
  }

  put(key: string, parts: readonly unknown[], answer: XmlObject): XmlObject {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, { parts, answer });
    return answer;
  }
}

/** `<{action}Response xmlns="…"><requestId>…</requestId>…members…</{action}Response>`, as UTF-8 chunks. */
export function renderResponse(action: string, requestId: string, body: XmlObject): Buffer[] {
  const out = new XmlOut();
  out.add(`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">`);
  write(out, 'requestId', requestId);
  for (const key of Object.keys(body)) write(out, key, body[key] as XmlValue);
  out.add(`</${action}Response>`);
  return out.chunks();
}

export function renderError(code: string, message: string, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>' +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
    `</Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`
  );
}
