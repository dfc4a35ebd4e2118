/** The OCCI categories skygate serves: the Core and Infrastructure kinds, their actions, and the static mixins. */

export const CORE = 'http://schemas.ogf.org/occi/core#';
export const INFRA = 'http://schemas.ogf.org/occi/infrastructure#';
export const COMPUTE_ACTION = 'http://schemas.ogf.org/occi/infrastructure/compute/action#';
export const STORAGE_ACTION = 'http://schemas.ogf.org/occi/infrastructure/storage/action#';
export const NETWORK_ACTION = 'http://schemas.ogf.org/occi/infrastructure/network/action#';
/** skygate's own schemes: where a provider's templates and the provider mixins live. */
export const SKYGATE = 'http://schemas.skygate.dev/occi/';
export const PROVIDER_SCHEME = `${SKYGATE}provider#`;
export const TAG_SCHEME = `${SKYGATE}tag#`;
export const osTplScheme = (provider: string) => `${SKYGATE}${provider}/os_tpl#`;
export const resourceTplScheme = (provider: string) => `${SKYGATE}${provider}/resource_tpl#`;

export type AttributeType = 'string' | 'number' | 'boolean';

export interface AttributeDef {
  type: AttributeType;
  mutable: boolean;
  required: boolean;
  description?: string;
  default?: string | number | boolean;
}

export interface Category {
  term: string;
  scheme: string;
  class: 'kind' | 'mixin' | 'action';
  title?: string;
  /** A kind's parent, or what a mixin depends on / applies to. */
  parent?: string;
  depends?: string[];
  applies?: string[];
  location?: string;
  attributes?: Record<string, AttributeDef>;
  actions?: string[];
}

export const idOf = (c: Pick<Category, 'scheme' | 'term'>) => `${c.scheme}${c.term}`;

const attr = (type: AttributeType, mutable: boolean, required = false, description?: string): AttributeDef => ({
  type,
  mutable,
  required,
  ...(description !== undefined && { description }),
});

const ENTITY_ATTRS = {
  'occi.core.id': attr('string', false, false, 'skygate id (provider:nativeId), set by the server'),
  'occi.core.title': attr('string', true),
};
const RESOURCE_ATTRS = { ...ENTITY_ATTRS, 'occi.core.summary': attr('string', true) };
const LINK_ATTRS = {
  ...ENTITY_ATTRS,
  'occi.core.source': attr('string', false, true),
  'occi.core.target': attr('string', false, true),
};

const action = (scheme: string, term: string, title: string, attributes?: Record<string, AttributeDef>): Category => ({
  term,
  scheme,
  class: 'action',
  title,
  ...(attributes && { attributes }),
});

export const ACTIONS = {
  start: action(COMPUTE_ACTION, 'start', 'start the compute'),
  stop: action(COMPUTE_ACTION, 'stop', 'stop the compute', {
    method: { ...attr('string', true), default: 'graceful' },
  }),
  restart: action(COMPUTE_ACTION, 'restart', 'restart the compute', {
    method: { ...attr('string', true), default: 'warm' },
  }),
  suspend: action(
    COMPUTE_ACTION,
    'suspend',
    'suspend the compute, where its provider can (capability suspend); start resumes it',
    {
      method: { ...attr('string', true), default: 'suspend' },
    },
  ),
  save: action(COMPUTE_ACTION, 'save', 'save the compute as a new image; answers its os_tpl mixin', {
    method: { ...attr('string', true), default: 'hot' },
    name: attr('string', true, false, 'name of the new image'),
  }),
} as const;
export type ComputeAction = keyof typeof ACTIONS;

/** GFD.224's storage actions; only snapshot maps onto the core (see storage.ts for why the others do not apply). */
export const STORAGE_ACTIONS = {
  online: action(STORAGE_ACTION, 'online', 'bring the storage online (not applicable: a volume is online while it exists)'),
  offline: action(STORAGE_ACTION, 'offline', 'take the storage offline (not applicable: detach it instead)'),
  backup: action(STORAGE_ACTION, 'backup', 'back the storage up (not applicable: use snapshot)'),
  snapshot: action(STORAGE_ACTION, 'snapshot', 'snapshot the storage (a skygate snapshot)', {
    name: attr('string', true, false, 'name of the new snapshot'),
  }),
  resize: action(STORAGE_ACTION, 'resize', 'resize the storage (not applicable: no cloud behind skygate resizes volumes yet)', {
    size: attr('number', true, true, 'GiB'),
  }),
} as const;
export type StorageAction = keyof typeof STORAGE_ACTIONS;

/** GFD.224's network actions, not applicable to the synthesized default networks (see storage.ts). */
export const NETWORK_ACTIONS = {
  up: action(NETWORK_ACTION, 'up', 'bring the network up (a default network always is)'),
  down: action(NETWORK_ACTION, 'down', 'take the network down (not applicable to a default network)'),
} as const;
export type NetworkAction = keyof typeof NETWORK_ACTIONS;

/** GFD.224's ipnetwork attributes; the network kind defines address and gateway too, as skygate did before the mixin. */
const IP_NETWORK_ATTRS = {
  'occi.network.address': attr('string', false, true, 'the IPv4 block in CIDR notation, at create only'),
  'occi.network.gateway': attr('string', false, false, 'IPv4 gateway inside the block, at create only (default: its first host)'),
};

export const KINDS = {
  entity: { term: 'entity', scheme: CORE, class: 'kind', title: 'entity', attributes: ENTITY_ATTRS } as Category,
  resource: {
    term: 'resource',
    scheme: CORE,
    class: 'kind',
    title: 'resource',
    parent: `${CORE}entity`,
    attributes: RESOURCE_ATTRS,
  } as Category,
  link: { term: 'link', scheme: CORE, class: 'kind', title: 'link', parent: `${CORE}entity`, attributes: LINK_ATTRS } as Category,
  compute: {
    term: 'compute',
    scheme: INFRA,
    class: 'kind',
    title: 'compute resource',
    parent: `${CORE}resource`,
    location: '/compute/',
    attributes: {
      ...RESOURCE_ATTRS,
      'occi.compute.architecture': attr('string', false),
      'occi.compute.cores': attr('number', false, false, 'vCPUs, from the resource_tpl'),
      'occi.compute.hostname': attr('string', false),
      'occi.compute.memory': attr('number', false, false, 'GiB, from the resource_tpl'),
      'occi.compute.state': attr('string', false, false, 'active, inactive, suspended or error'),
      'occi.compute.state.message': attr('string', false, false, "the provider's own state"),
    },
    actions: Object.values(ACTIONS).map(idOf),
  } as Category,
  storage: {
    term: 'storage',
    scheme: INFRA,
    class: 'kind',
    title: 'storage resource',
    parent: `${CORE}resource`,
    location: '/storage/',
    attributes: {
      ...RESOURCE_ATTRS,
      'occi.storage.size': attr('number', false, true, 'GiB'),
      'occi.storage.state': attr('string', false, false, 'online, offline or error'),
      'occi.storage.state.message': attr('string', false),
    },
    actions: Object.values(STORAGE_ACTIONS).map(idOf),
  } as Category,
  network: {
    term: 'network',
    scheme: INFRA,
    class: 'kind',
    title: "a network: a provider's default one, or one created beside it (providers with the networks capability)",
    parent: `${CORE}resource`,
    location: '/network/',
    attributes: {
      ...RESOURCE_ATTRS,
      'occi.network.state': attr('string', false),
      // Compatibility: the canonical place of these two is the ipnetwork mixin (GFD.224), which every network carries.
      ...IP_NETWORK_ATTRS,
    },
    actions: Object.values(NETWORK_ACTIONS).map(idOf),
  } as Category,
  networkinterface: {
    term: 'networkinterface',
    scheme: INFRA,
    class: 'kind',
    title: "a compute's interface on its network: its provider's default one, or the created one it was launched on (read only)",
    parent: `${CORE}link`,
    location: '/networkinterface/',
    attributes: {
      ...LINK_ATTRS,
      'occi.networkinterface.address': attr('string', false),
      'occi.networkinterface.state': attr('string', false),
    },
  } as Category,
  storagelink: {
    term: 'storagelink',
    scheme: INFRA,
    class: 'kind',
    title: 'a storage attached to a compute',
    parent: `${CORE}link`,
    location: '/storagelink/',
    attributes: {
      ...LINK_ATTRS,
      'occi.storagelink.deviceid': attr('string', false),
      'occi.storagelink.state': attr('string', false),
    },
  } as Category,
} satisfies Record<string, Category>;
export type KindName = keyof typeof KINDS;

/** Where in a provider an entity lives; set at create (else the provider's default), then fixed. */
export const PROVIDER_ATTRS: Record<string, AttributeDef> = {
  'skygate.zone': attr('string', false, false, "the provider's availability zone"),
};

/** Static mixins: the template parents and the contextualisation mixins of GFD.224 (OCCI 1.2). */
export const MIXINS = {
  os_tpl: { term: 'os_tpl', scheme: INFRA, class: 'mixin', title: 'OS template', location: '/mixin/os_tpl/' } as Category,
  resource_tpl: {
    term: 'resource_tpl',
    scheme: INFRA,
    class: 'mixin',
    title: 'resource template',
    location: '/mixin/resource_tpl/',
  } as Category,
  user_data: {
    term: 'user_data',
    scheme: 'http://schemas.ogf.org/occi/infrastructure/compute#',
    class: 'mixin',
    title: 'cloud-init user data',
    applies: [idOf(KINDS.compute)],
    location: '/mixin/user_data/',
    attributes: { 'occi.compute.userdata': attr('string', false, false, 'base64 user data, at create only') },
  } as Category,
  ssh_key: {
    term: 'ssh_key',
    scheme: 'http://schemas.ogf.org/occi/infrastructure/credentials#',
    class: 'mixin',
    title: 'SSH key: the name of a key pair already imported at the provider',
    applies: [idOf(KINDS.compute)],
    location: '/mixin/ssh_key/',
    attributes: {
      'occi.credentials.ssh.publickey': attr('string', false, false, 'the key pair name (skygate key pairs), at create only'),
    },
  } as Category,
  ipnetwork: {
    term: 'ipnetwork',
    scheme: 'http://schemas.ogf.org/occi/infrastructure/network#',
    class: 'mixin',
    title: 'IP network: the address block and gateway of a network (every network carries it)',
    applies: [idOf(KINDS.network)],
    location: '/mixin/ipnetwork/',
    attributes: {
      ...IP_NETWORK_ATTRS,
      'occi.network.allocation': {
        ...attr('string', false, false, 'dynamic: the provider assigns each interface an address from the block'),
        default: 'dynamic',
      },
    },
  } as Category,
  ipnetworkinterface: {
    term: 'ipnetworkinterface',
    scheme: 'http://schemas.ogf.org/occi/infrastructure/networkinterface#',
    class: 'mixin',
    title: "IP network interface: the address the provider gave a compute's interface",
    applies: [idOf(KINDS.networkinterface)],
    location: '/mixin/ipnetworkinterface/',
    attributes: {
      'occi.networkinterface.address': attr('string', false, false, 'IPv4 address, assigned by the provider'),
      'occi.networkinterface.gateway': attr('string', false, false, "the network's gateway, where skygate knows it"),
      'occi.networkinterface.allocation': {
        ...attr('string', false, false, 'dynamic: the provider assigns the address'),
        default: 'dynamic',
      },
    },
  } as Category,
  tag: {
    term: 'tag',
    scheme: `${SKYGATE}#`,
    class: 'mixin',
    title: `user mixins: each term of scheme ${TAG_SCHEME} is the resource tag of that key`,
    location: '/mixin/tag/',
  } as Category,
  provider: {
    term: 'provider',
    scheme: `${SKYGATE}#`,
    class: 'mixin',
    title: 'where an entity lives: parent of one mixin per provider',
    location: '/mixin/provider/',
    attributes: PROVIDER_ATTRS,
  } as Category,
} satisfies Record<string, Category>;
