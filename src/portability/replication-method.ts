/** How replication moves an image to each target: the cloud's own copy within one copy domain, else the OVA pipeline. */
import { SkygateError } from '../core/errors.js';
import type { CloudAdapter } from '../core/ports.js';

export type ReplicationMethod = 'native' | 'ova';

/** One side of a replication: a provider's adapter and its cloud type. */
export interface ReplicationEnd {
  type: string;
  adapter: CloudAdapter;
}

/**
 * Why `target` cannot copy `source`'s images with its own copy, or undefined when it can: both of one cloud
 * type, both claiming nativeImageCopy, the target implementing `copyImageFrom`, and both in one copy domain
 * (for EC2: one partition or endpoint, one account).
 */
export function nativeCopyRefusal(source: ReplicationEnd, target: ReplicationEnd): string | undefined {
  const from = source.adapter.providerId;
  const to = target.adapter.providerId;
  if (source.type !== target.type) return `'${to}' is a ${target.type} cloud and '${from}' a ${source.type} cloud`;
  if (!source.adapter.capabilities().nativeImageCopy) return `'${from}' has no native image copy`;
  if (!target.adapter.capabilities().nativeImageCopy || !target.adapter.copyImageFrom) {
    return `'${to}' has no native image copy`;
  }
  const fromScope = source.adapter.imageCopyScope?.();
  const toScope = target.adapter.imageCopyScope?.();
  if (fromScope === undefined || toScope === undefined) return `'${from}' or '${to}' does not say where its image copy reaches`;
  if (fromScope.domain !== toScope.domain) {
    return `'${to}' (${toScope.domain}) cannot reach the images of '${from}' (${fromScope.domain})`;
  }
  return undefined;
}

/**
 * The way `target` gets the image: natively when it can, else through the OVA pipeline when it takes image
 * bytes; else an `unsupported` error naming `field` and both reasons.
 */
export function replicationMethod(source: ReplicationEnd, target: ReplicationEnd, field: string): ReplicationMethod {
  const refusal = nativeCopyRefusal(source, target);
  if (refusal === undefined) return 'native';
  if (target.adapter.capabilities().imageUpload && target.adapter.uploadImage) return 'ova';
  throw new SkygateError(
    'unsupported',
    `${field}: provider '${target.adapter.providerId}' cannot receive image bytes (capability imageUpload) and cannot copy natively: ${refusal}`,
    { field },
  );
}

/** Where a native copy reads the image: the source's region within its copy domain. */
export function copySourceOf(source: CloudAdapter): { sourceRegion?: string } {
  const scope = source.imageCopyScope?.();
  return scope === undefined ? {} : { sourceRegion: scope.region };
}
