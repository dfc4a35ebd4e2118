/** Resource ids are `providerId:nativeId`, so any tool can tell where a resource lives. */
import { invalid } from './errors.js';

export const PROVIDER_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const NATIVE_ID_PATTERN = /^[A-Za-z0-9._~-]{1,255}$/;

export interface ResourceRef {
  provider: string;
  nativeId: string;
}

export const formatId = (provider: string, nativeId: string): string => `${provider}:${nativeId}`;

/** Splits a skygate id; `field` names the input it came from for the error message. */
export function parseId(id: string, field: string): ResourceRef {
  const at = id.indexOf(':');
  if (at < 0) throw invalid(field, `'${id}' is not a skygate id of the form providerId:nativeId`);
  const provider = id.slice(0, at);
  const nativeId = id.slice(at + 1);
  if (!PROVIDER_ID_PATTERN.test(provider)) throw invalid(field, `'${provider}' is not a valid provider id`);
  if (!NATIVE_ID_PATTERN.test(nativeId)) throw invalid(field, `'${nativeId}' is not a valid native id`);
  return { provider, nativeId };
}

/**
 * Resolves a reference given either as a full id or as a native id of `provider`; a full id that
 * names another provider is refused (a VM boots from an image of its own cloud).
 */
export function parseRefIn(provider: string, value: string, field: string): string {
  if (!value.includes(':')) {
    if (!NATIVE_ID_PATTERN.test(value)) throw invalid(field, `'${value}' is not a valid id`);
    return value;
  }
  const ref = parseId(value, field);
  if (ref.provider !== provider) {
    throw invalid(field, `'${value}' belongs to provider '${ref.provider}', not '${provider}'`);
  }
  return ref.nativeId;
}
