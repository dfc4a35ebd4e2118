/**
 * What a caller below the operator role may not read back: cloud-init user data (it often holds credentials)
 * and anything else that looks like a secret, wherever it sits in an operation's input, and credentials carried
 * in URLs (a pre-signed import URL's signature, a password in its user info).
 */
import type { Operation, Role } from './model.js';

export const REDACTED = '[redacted]';

// Matched at the end of a key, compared without case, `-` or `_`: userData, user_data, secretAccessKey,
// X-Api-Key, x-amz-security-token, dbPassword...
const SECRET_SUFFIXES = [
  'userdata',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secretkey',
  'secretaccesskey',
  'privatekey',
  'apikey',
  'token',
  'authorization',
  'credential',
  'credentials',
];
// Named like a secret, but not one: EC2's ClientToken is an idempotency key the caller made up.
const NOT_SECRET = new Set(['clienttoken']);

// Query parameters of a URL whose values are credentials (AWS and Azure pre-signed URLs, common API keys).
const SECRET_QUERY =
  /^(x-amz-(signature|credential|security-token)|signature|sig|token|access_?token|api_?key|key|password|secret)$/i;

const normalise = (key: string) => key.toLowerCase().replace(/[-_]/g, '');

export function isSecretKey(key: string): boolean {
  const k = normalise(key);
  return !NOT_SECRET.has(k) && SECRET_SUFFIXES.some((s) => k.endsWith(s));
}

/** `url` with any user-info password and credential-looking query values replaced; anything not a URL as is. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let changed = false;
  if (parsed.password !== '') {
    parsed.password = 'redacted';
    changed = true;
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY.test(name)) {
      parsed.searchParams.set(name, 'redacted');
      changed = true;
    }
  }
  return changed ? parsed.href : url;
}

/** URLs inside free text (an error message that quotes the URL it fetched), redacted as `redactUrl` does. */
export const redactUrlsIn = (text: string): string => text.replace(/\bhttps?:\/\/[^\s'"<>]+/g, (u) => redactUrl(u));

/** A deep copy of `value` with secret-looking keys' values replaced by `[redacted]` and URLs' credentials removed. */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return redactUrlsIn(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v)]),
  ) as T;
}

/** Whether `role` may read an operation's input as given (user data included): operators and admins. */
export const seesSecrets = (role: Role): boolean => role === 'operator' || role === 'admin';

/** Operation `op` as a caller with `role` may read it: its input, result, error and step details redacted below operator. */
export function operationFor<O extends Pick<Operation, 'input'> & Partial<Pick<Operation, 'result' | 'error' | 'steps'>>>(
  op: O,
  role: Role,
): O {
  if (seesSecrets(role)) return op;
  return {
    ...op,
    input: redactSecrets(op.input),
    ...(op.result !== undefined && { result: redactSecrets(op.result) }),
    ...(op.error !== undefined && { error: { ...op.error, message: redactUrlsIn(op.error.message) } }),
    ...(op.steps !== undefined && {
      steps: op.steps.map((s) => (s.detail === undefined ? s : { ...s, detail: redactUrlsIn(s.detail) })),
    }),
  };
}
