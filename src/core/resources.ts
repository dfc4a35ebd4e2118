/** Turns what an adapter reports into unified resources: full ids on the resource and on every reference. */
import { notFound } from './errors.js';
import { yieldToEventLoop } from './event-loop.js';
import { formatId } from './ids.js';
import type { ResourceKind, ResourceOf } from './model.js';
import type {
  CloudAdapter,
  NativeFlavor,
  NativeImage,
  NativeInstance,
  NativePage,
  NativeSnapshot,
  NativeVolume,
  PageRequest,
} from './ports.js';

export type NativeOf<K extends ResourceKind> = K extends 'instance'
  ? NativeInstance
  : K extends 'image'
    ? NativeImage
    : K extends 'snapshot'
      ? NativeSnapshot
      : K extends 'volume'
        ? NativeVolume
        : NativeFlavor;

/** Native reference fields per kind, which get the provider prefix like the resource's own id. */
const REFERENCES: Record<ResourceKind, string[]> = {
  instance: ['flavorId', 'imageId', 'networkId'],
  image: ['sourceInstanceId'],
  snapshot: ['volumeId'],
  volume: ['attachedTo', 'snapshotId'],
  flavor: [],
};

export function toResource<K extends ResourceKind>(
  kind: K,
  provider: string,
  native: NativeOf<K>,
  observedAt: string,
): ResourceOf<K> {
  const resource: Record<string, unknown> = { ...native, id: formatId(provider, native.nativeId), provider, observedAt };
  for (const field of REFERENCES[kind]) {
    const ref = resource[field];
    if (typeof ref === 'string' && ref !== '') resource[field] = formatId(provider, ref);
  }
  return resource as unknown as ResourceOf<K>;
}

/** Reads one native resource of `kind`. */
export function getNative<K extends ResourceKind>(adapter: CloudAdapter, kind: K, nativeId: string): Promise<NativeOf<K>> {
  const get: Record<ResourceKind, (id: string) => Promise<unknown>> = {
    instance: (id) => adapter.getInstance(id),
    image: (id) => adapter.getImage(id),
    snapshot: (id) => adapter.getSnapshot(id),
    volume: (id) => adapter.getVolume(id),
    flavor: async (id) => {
      const flavor = (await adapter.listFlavors()).find((f) => f.nativeId === id);
      if (!flavor) throw notFound('flavor', id);
      return flavor;
    },
  };
  return get[kind](nativeId) as Promise<NativeOf<K>>;
}

/** Reads every native resource of `kind`, walking the provider's pages. */
export async function listAllNative<K extends ResourceKind>(adapter: CloudAdapter, kind: K): Promise<NativeOf<K>[]> {
  if (kind === 'flavor') return (await adapter.listFlavors()) as NativeOf<K>[];
  const page: Record<Exclude<ResourceKind, 'flavor'>, (p: PageRequest) => Promise<NativePage<unknown>>> = {
    instance: (p) => adapter.listInstances(p),
    image: (p) => adapter.listImages(p),
    snapshot: (p) => adapter.listSnapshots(p),
    volume: (p) => adapter.listVolumes(p),
  };
  const list = page[kind as Exclude<ResourceKind, 'flavor'>];
  const all: NativeOf<K>[] = [];
  let marker: string | undefined;
  do {
    // An adapter answering from memory never yields; let requests in between pages.
    if (marker !== undefined) await yieldToEventLoop();
    const result = await list({ limit: 500, marker });
    all.push(...(result.items as NativeOf<K>[]));
    marker = result.marker;
  } while (marker);
  return all;
}
