/** skygate's resources as OCCI entities: compute (instance), storage (volume), network (default and created networks) and their links. */
import type { Flavor, Image, Instance, InstanceState, Volume, VolumeState } from '../../core/index.js';
import {
  ACTIONS,
  type ComputeAction,
  idOf,
  INFRA,
  KINDS,
  MIXINS,
  osTplScheme,
  PROVIDER_SCHEME,
  resourceTplScheme,
  STORAGE_ACTIONS,
  TAG_SCHEME,
} from './categories.js';

export type AttributeValue = string | number | boolean;

export interface EntityRef {
  location: string;
  kind: string;
}

export interface OcciLink {
  kind: string;
  mixins: string[];
  id: string;
  location: string;
  title?: string;
  source: EntityRef;
  target: EntityRef;
  attributes: Record<string, AttributeValue>;
}

export interface OcciResource {
  kind: string;
  mixins: string[];
  id: string;
  location: string;
  title?: string;
  summary?: string;
  attributes: Record<string, AttributeValue>;
  /** Actions applicable now, with where to POST them. */
  actions: Array<{ id: string; href: string }>;
  links: OcciLink[];
}

/**
 * A native id as an OCCI term (GFD.229: lower-case letters, digits, '-' and '_', starting with a letter or
 * digit). Not reversible in general, so templates are resolved by comparing terms, never by decoding.
 */
export function termOf(nativeId: string): string {
  const t = nativeId.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  return /^[a-z0-9]/.test(t) ? t : `x${t}`;
}

type Located = 'compute' | 'storage' | 'network' | 'storagelink' | 'networkinterface';

export const locationOf = (kind: Located, id: string) => `/${kind}/${id}`;

/** The id in a `/{kind}/{id}` location, relative or absolute (as clients send back what they read); else undefined. */
export function idIn(location: string, kind: Located): string | undefined {
  const m = new RegExp(`(?:^|/)${kind}/([^/?#]+)$`).exec(location);
  return m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
}

/** GFD.224's four compute states; the provider's own state goes to occi.compute.state.message. */
const COMPUTE_STATE: Record<InstanceState, 'active' | 'inactive' | 'suspended' | 'error'> = {
  pending: 'inactive',
  running: 'active',
  stopping: 'inactive',
  stopped: 'inactive',
  rebooting: 'active',
  suspending: 'suspended',
  suspended: 'suspended',
  terminating: 'inactive',
  terminated: 'inactive',
  error: 'error',
};

const STORAGE_STATE: Record<VolumeState, 'online' | 'offline' | 'error'> = {
  creating: 'offline',
  available: 'online',
  attaching: 'online',
  'in-use': 'online',
  detaching: 'online',
  deleting: 'offline',
  deleted: 'offline',
  error: 'error',
};

/**
 * The actions the core allows in each state (see core/lifecycle.ts: start when stopped or suspended, stop when
 * running, reboot when running, suspend when running, snapshot when running or stopped), advertised so clients
 * only see what can work; suspend only where the provider can (`computeOf`'s `canSuspend`).
 */
const ACTIONS_IN: Partial<Record<InstanceState, ComputeAction[]>> = {
  running: ['stop', 'restart', 'suspend', 'save'],
  stopped: ['start', 'save'],
  suspended: ['start'],
  pending: ['stop'],
  rebooting: ['stop', 'restart'],
};

/**
 * A compute's or storage's occi.core.summary is kept as this tag (not a term, so not a user mixin), where REST
 * and EC2 show it too; the title is the instance's or volume's name.
 */
export const SUMMARY_TAG = 'occi.core.summary';

/** Tags whose key is a term are user mixins (`…/tag#<key>`); other tags (`Name`) stay REST's and EC2's. */
export const TERM = /^[a-z0-9][a-z0-9_-]*$/;
export const tagMixins = (tags: Record<string, string>) =>
  Object.keys(tags)
    .filter((k) => TERM.test(k))
    .map((k) => `${TAG_SCHEME}${k}`);

export const providerMixin = (provider: string) => `${PROVIDER_SCHEME}${provider}`;
export const osTplMixin = (provider: string, imageNativeId: string) => `${osTplScheme(provider)}${termOf(imageNativeId)}`;
export const resourceTplMixin = (provider: string, flavorNativeId: string) =>
  `${resourceTplScheme(provider)}${termOf(flavorNativeId)}`;

/** Instances refer to their image and flavor by skygate id; templates are named after the native part. */
const nativeOf = (provider: string, ref: string) => (ref.startsWith(`${provider}:`) ? ref.slice(provider.length + 1) : ref);

/** `canSuspend`: whether the compute's provider can suspend (capability `suspend`), so `suspend` is advertised. */
export function computeOf(i: Instance, flavor: Flavor | undefined, links: OcciLink[] = [], canSuspend = false): OcciResource {
  const location = locationOf('compute', i.id);
  const attributes: Record<string, AttributeValue> = {
    'occi.core.id': i.id,
    'occi.core.title': i.name,
    'occi.compute.hostname': i.name,
    'occi.compute.state': COMPUTE_STATE[i.state],
    'occi.compute.state.message': i.state,
    'skygate.zone': i.zone,
  };
  const summary = i.tags[SUMMARY_TAG];
  if (summary !== undefined) attributes['occi.core.summary'] = summary;
  if (flavor) {
    attributes['occi.compute.cores'] = flavor.vcpus;
    attributes['occi.compute.memory'] = flavor.memoryMiB / 1024;
  }
  return {
    kind: idOf(KINDS.compute),
    mixins: [
      providerMixin(i.provider),
      osTplMixin(i.provider, nativeOf(i.provider, i.imageId)),
      resourceTplMixin(i.provider, nativeOf(i.provider, i.flavorId)),
      ...tagMixins(i.tags),
    ],
    id: i.id,
    location,
    title: i.name,
    ...(summary !== undefined && { summary }),
    attributes,
    actions: (ACTIONS_IN[i.state] ?? [])
      .filter((a) => canSuspend || a !== 'suspend')
      .map((a) => ({ id: idOf(ACTIONS[a]), href: `${location}?action=${a}` })),
    links,
  };
}

/** A compute's interface: on the created network it was launched on, else on its provider's default network. */
export function networkInterfaceOf(i: Instance): OcciLink {
  const target = locationOf('network', i.networkId ?? `${i.provider}:default-network`);
  return {
    kind: idOf(KINDS.networkinterface),
    // GFD.224's ipnetworkinterface where the provider has given the interface an address.
    mixins: i.privateIp !== undefined ? [idOf(MIXINS.ipnetworkinterface)] : [],
    id: i.id,
    location: locationOf('networkinterface', i.id),
    source: { location: locationOf('compute', i.id), kind: idOf(KINDS.compute) },
    target: { location: target, kind: idOf(KINDS.network) },
    attributes: {
      'occi.core.id': i.id,
      'occi.core.source': locationOf('compute', i.id),
      'occi.core.target': target,
      'occi.networkinterface.state': i.state === 'running' ? 'active' : 'inactive',
      ...(i.privateIp !== undefined && {
        'occi.networkinterface.address': i.privateIp,
        'occi.networkinterface.allocation': 'dynamic',
      }),
    },
  };
}

/** An attached volume is a storagelink from its compute; the link's id is the volume's. */
export function storageLinkOf(v: Volume): OcciLink | undefined {
  if (!v.attachedTo) return undefined;
  const source = locationOf('compute', v.attachedTo);
  const target = locationOf('storage', v.id);
  return {
    kind: idOf(KINDS.storagelink),
    mixins: [],
    id: v.id,
    location: locationOf('storagelink', v.id),
    source: { location: source, kind: idOf(KINDS.compute) },
    target: { location: target, kind: idOf(KINDS.storage) },
    attributes: {
      'occi.core.id': v.id,
      'occi.core.source': source,
      'occi.core.target': target,
      'occi.storagelink.state': v.state === 'in-use' ? 'active' : 'inactive',
      ...(v.device !== undefined && { 'occi.storagelink.deviceid': v.device }),
    },
  };
}

/** The core snapshots a volume while it is available or in use (core/lifecycle.ts). */
const SNAPSHOT_STATES: VolumeState[] = ['available', 'in-use'];

/** A storage carries its tag mixins and summary (tags) as a compute does. */
export function storageOf(v: Volume): OcciResource {
  const link = storageLinkOf(v);
  const location = locationOf('storage', v.id);
  const summary = v.tags[SUMMARY_TAG];
  return {
    kind: idOf(KINDS.storage),
    mixins: [providerMixin(v.provider), ...tagMixins(v.tags)],
    id: v.id,
    location,
    title: v.name,
    ...(summary !== undefined && { summary }),
    attributes: {
      'occi.core.id': v.id,
      'occi.core.title': v.name,
      ...(summary !== undefined && { 'occi.core.summary': summary }),
      'occi.storage.size': v.sizeGiB,
      'occi.storage.state': STORAGE_STATE[v.state],
      'occi.storage.state.message': v.state,
      'skygate.zone': v.zone,
    },
    actions: SNAPSHOT_STATES.includes(v.state)
      ? [{ id: idOf(STORAGE_ACTIONS.snapshot), href: `${location}?action=snapshot` }]
      : [],
    links: link ? [link] : [],
  };
}

/**
 * A network entity: a provider's default network, or one created beside it (`gateway` then known). Every network
 * carries GFD.224's ipnetwork mixin (its block, gateway and allocation); tags whose key is a term are user mixins and
 * `occi.core.summary` is kept as that tag, as on computes.
 */
export function networkOf(n: {
  provider: string;
  id: string;
  cidr: string;
  title?: string;
  gateway?: string;
  tags?: Record<string, string>;
}): OcciResource {
  const title = n.title ?? `default network of ${n.provider}`;
  const tags = n.tags ?? {};
  const summary = tags[SUMMARY_TAG];
  return {
    kind: idOf(KINDS.network),
    mixins: [providerMixin(n.provider), idOf(MIXINS.ipnetwork), ...tagMixins(tags)],
    id: n.id,
    location: locationOf('network', n.id),
    title,
    ...(summary !== undefined && { summary }),
    attributes: {
      'occi.core.id': n.id,
      'occi.core.title': title,
      ...(summary !== undefined && { 'occi.core.summary': summary }),
      'occi.network.state': 'active',
      'occi.network.address': n.cidr,
      ...(n.gateway !== undefined && { 'occi.network.gateway': n.gateway }),
      'occi.network.allocation': 'dynamic',
    },
    actions: [],
    links: [],
  };
}

/** The os_tpl mixin of an image: what `save` answers and what a create names. */
export function osTplCategory(image: Image) {
  return {
    term: termOf(image.nativeId),
    scheme: osTplScheme(image.provider),
    class: 'mixin' as const,
    title: `${image.name} at ${image.provider}`,
    depends: [`${INFRA}os_tpl`],
    applies: [idOf(KINDS.compute)],
    location: `/mixin/os_tpl/${image.provider}/${termOf(image.nativeId)}/`,
  };
}

export function resourceTplCategory(f: Flavor) {
  return {
    term: termOf(f.nativeId),
    scheme: resourceTplScheme(f.provider),
    class: 'mixin' as const,
    title: `${f.name} at ${f.provider}: ${f.vcpus} vCPU, ${f.memoryMiB} MiB, ${f.diskGiB} GiB`,
    depends: [`${INFRA}resource_tpl`],
    applies: [idOf(KINDS.compute)],
    location: `/mixin/resource_tpl/${f.provider}/${termOf(f.nativeId)}/`,
  };
}
