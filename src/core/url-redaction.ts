/** Redacts credential-like query values from a URL or request path before it reaches a log or an error message. */

/**
 * Query names whose values are secrets: tokens, keys, signatures, passwords, SigV4's X-Amz-* of a
 * pre-signed URL. Matched on the lower-cased name, as a part of it (`access_token`, `apiKey`).
 */
const SECRET_NAME = /token|key|secret|signature|credential|password|passwd|pwd|auth|session|sig$|^sig|^code$/i;

export const REDACTED = 'REDACTED';

/** Whether a query parameter's value must not be shown. */
export const isSecretParam = (name: string): boolean => SECRET_NAME.test(name);

/**
 * A path with query (`/v1/x?token=abc&limit=5`, or a full URL) with secret values replaced:
 * `/v1/x?token=REDACTED&limit=5`. User info in a full URL (`https://u:p@host`) is dropped too.
 */
export function redactUrl(raw: string): string {
  const at = raw.indexOf('?');
  let head = at < 0 ? raw : raw.slice(0, at);
  head = head.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
  if (at < 0) return head;
  const hash = raw.indexOf('#', at);
  const query = raw.slice(at + 1, hash < 0 ? undefined : hash);
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      // A malformed escape: judge the name as it came.
    }
    return eq >= 0 && isSecretParam(name) ? `${rawName}=${REDACTED}` : pair;
  });
  return `${head}?${parts.join('&')}`;
}
