/**
 * One name policy for whatever a caller names (instances, images, snapshots, volumes, key pairs, tokens, access
 * keys), checked by the core before any operation is written, so every front refuses the same names for the
 * same reason, and the spec's ResourceName pattern is built from the same character class.
 *
 * A name is 1 to 255 printable characters of any script, spaces included. Refused, because they corrupt or
 * disguise a name wherever it ends up (a log line, a terminal, an XML descriptor, a console):
 * - control characters: C0 (NUL, TAB, LF, CR, ESC...), DEL and C1 (U+0080 to U+009F);
 * - line and paragraph separators (U+2028, U+2029);
 * - bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069), which reorder how
 *   the rest of a name displays;
 * - lone surrogates (half of a UTF-16 pair, not a character) and noncharacters (U+FFFE, U+FFFF...).
 */
import { invalid } from './errors.js';

export const NAME_MAX_LENGTH = 255;

/** The refused characters as the body of a regular expression class (`u` flag); the spec's pattern uses it too. */
export const NAME_FORBIDDEN_CLASS = String.raw`\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069\p{Noncharacter_Code_Point}`;

/** The spec's ResourceName pattern: nothing but allowed characters (lengths are the schema's minLength/maxLength). */
export const NAME_PATTERN = `^[^${NAME_FORBIDDEN_CLASS}]*$`;

const FORBIDDEN = new RegExp(`[${NAME_FORBIDDEN_CLASS}]`, 'u');

/** What is allowed, as said in every refusal. */
export const NAME_RULE =
  'printable characters of any script: no control characters (C0, DEL, C1), line or paragraph separators, bidirectional controls, lone surrogates or noncharacters';

const codePoint = (c: string) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

function kindOf(c: string): string {
  if (/\p{Cc}/u.test(c)) return 'a control character';
  if (/\p{Cs}/u.test(c)) return 'a lone surrogate';
  if (/[\p{Zl}\p{Zp}]/u.test(c)) return 'a line or paragraph separator';
  if (/\p{Noncharacter_Code_Point}/u.test(c)) return 'a noncharacter';
  return 'a bidirectional control';
}

/** Throws `invalid_input` naming `field` when `name` breaks the policy; answers the name. */
export function checkName(name: unknown, field: string, maxLength = NAME_MAX_LENGTH): string {
  if (typeof name !== 'string') throw invalid(field, 'must be a string');
  // Counted in characters (code points), as JSON Schema's maxLength counts them.
  const length = [...name].length;
  if (length < 1 || length > maxLength) throw invalid(field, `must be 1 to ${maxLength} characters (${length} given)`);
  const bad = FORBIDDEN.exec(name)?.[0];
  if (bad !== undefined) throw invalid(field, `contains ${codePoint(bad)} (${kindOf(bad)}); a name is ${NAME_RULE}`);
  return name;
}

/** Key pair names follow EC2's stricter rule: 1 to 255 printable ASCII characters. */
export const KEY_PAIR_NAME_PATTERN = /^[\x20-\x7e]{1,255}$/;

export function checkKeyPairName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !KEY_PAIR_NAME_PATTERN.test(name)) {
    throw invalid(field, 'must be 1 to 255 printable ASCII characters');
  }
  return name;
}
