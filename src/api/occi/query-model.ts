/**
 * The query interface's content (GFD.223 §3.4): the static kinds, actions and mixins, plus per provider a
 * provider mixin, an os_tpl mixin per image and a resource_tpl mixin per flavor, read from the inventory.
 * Also resolves the mixins a create names back to a provider, an image and a flavor.
 */
import type { CoreServices, Flavor, Image } from '../../core/index.js';
import {
  ACTIONS,
  type Category,
  idOf,
  KINDS,
  MIXINS,
  NETWORK_ACTIONS,
  osTplScheme,
  PROVIDER_ATTRS,
  PROVIDER_SCHEME,
  resourceTplScheme,
  STORAGE_ACTIONS,
} from './categories.js';
import { osTplCategory, resourceTplCategory, termOf } from './entities.js';
import { badRequest } from './errors.js';
import type { ParsedCategory } from './parse.js';
import { categoryId } from './check.js';

const ALL = 100_000;

export function providerCategory(provider: string): Category {
  return {
    term: provider,
    scheme: PROVIDER_SCHEME,
    class: 'mixin',
    title: `entities at provider ${provider}`,
    depends: [idOf(MIXINS.provider)],
    location: `/mixin/provider/${provider}/`,
    attributes: PROVIDER_ATTRS,
  };
}

export async function queryModel(core: CoreServices): Promise<Category[]> {
  const [images, flavors] = await Promise.all([
    core.inventory.list('image', { limit: ALL, shared: true }),
    core.inventory.list('flavor', { limit: ALL, shared: true }),
  ]);
  return [
    ...Object.values(KINDS),
    ...Object.values(ACTIONS),
    ...Object.values(STORAGE_ACTIONS),
    ...Object.values(NETWORK_ACTIONS),
    ...Object.values(MIXINS),
    ...core.providers.ids().map(providerCategory),
    ...images.items.filter((i) => i.state === 'available').map(osTplCategory),
    ...flavors.items.map(resourceTplCategory),
  ];
}

/** What the mixins of a create say: the provider, and the image and flavor named by templates. */
export interface Templates {
  provider?: string;
  image?: Image;
  flavor?: Flavor;
  /** The static mixins named (user_data, ssh_key), for their attributes. */
  extras: Category[];
}

const STATIC_MIXINS = new Map(Object.values(MIXINS).map((m) => [idOf(m), m]));

export async function resolveMixins(core: CoreServices, mixins: ParsedCategory[]): Promise<Templates> {
  const out: Templates = { extras: [] };
  const setProvider = (p: string, why: string) => {
    if (out.provider !== undefined && out.provider !== p) {
      throw badRequest(`mixin ${why} is at provider '${p}', another mixin names provider '${out.provider}'`);
    }
    out.provider = p;
  };
  const ids = new Set(core.providers.ids());
  for (const m of mixins) {
    const id = categoryId(m);
    const stat = STATIC_MIXINS.get(id);
    if (stat) {
      out.extras.push(stat);
      continue;
    }
    if (m.scheme === PROVIDER_SCHEME && ids.has(m.term)) {
      setProvider(m.term, id);
      continue;
    }
    const tpl = [...ids].find((p) => m.scheme === osTplScheme(p) || m.scheme === resourceTplScheme(p));
    if (tpl === undefined) throw badRequest(`mixin ${id}: unknown (see the query interface at /-/)`);
    setProvider(tpl, id);
    if (m.scheme === osTplScheme(tpl)) {
      if (out.image) throw badRequest(`mixin ${id}: a compute has one os_tpl`);
      const images = await core.inventory.list('image', { providers: [tpl], limit: ALL, shared: true });
      out.image = images.items.find((i) => termOf(i.nativeId) === m.term && i.state !== 'deleted');
      if (!out.image) throw badRequest(`mixin ${id}: unknown os_tpl (no such image at provider '${tpl}')`);
    } else {
      if (out.flavor) throw badRequest(`mixin ${id}: a compute has one resource_tpl`);
      const flavors = await core.inventory.list('flavor', { providers: [tpl], limit: ALL, shared: true });
      out.flavor = flavors.items.find((f) => termOf(f.nativeId) === m.term);
      if (!out.flavor) throw badRequest(`mixin ${id}: unknown resource_tpl (no such flavor at provider '${tpl}')`);
    }
  }
  return out;
}
