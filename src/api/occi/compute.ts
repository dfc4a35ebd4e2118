/** /compute/: list, read, create (launch), delete and the compute actions, each one call to a core service. */
import type { Request, Response } from 'express';
import { type CoreServices, type Flavor, type Instance, toSkygateError } from '../../core/index.js';
import { readAction } from './action.js';
import { ACTIONS, idOf, KINDS, MIXINS, PROVIDER_ATTRS } from './categories.js';
import { checkAttributes, defsOf, kindOf, str } from './check.js';
import { networkOfLinks } from './create-links.js';
import { computeOf, networkInterfaceOf, type OcciLink, osTplCategory, SUMMARY_TAG, storageLinkOf } from './entities.js';
import { badRequest, notApplicable, OcciError } from './errors.js';
import { computeFilter } from './filter.js';
import { FragmentCache } from './fragment-cache.js';
import { baseOf, callerOf, negotiate, queryOf, send } from './http.js';
import { pageOf } from './paging.js';
import { readBody, readUpdate } from './update.js';
import { parseRequest } from './parse.js';
import { resolveMixins } from './query-model.js';
import { collectionItemJson, type Rendered, renderCategories, renderCollection, renderResource } from './render.js';

/** How long a create or save waits for the provider to name the new resource before answering 503 (retry). */
export const CREATE_WAIT_MS = 10_000;

export class ComputeHandlers {
  private readonly fragments = new FragmentCache();
  /** Whole encoded listing answers (with their Link header), kept while the computes and flavors stay the same. */
  private readonly pages = new FragmentCache<{ rendered: Rendered; link?: string }>(1_000);
  private readonly flavorMaps = new FragmentCache<Map<string, Flavor>>(1);

  constructor(private readonly core: CoreServices) {}

  /** Every flavor by id; the map is kept while the flavors stay the same (a listing page asks every time). */
  private async flavors(): Promise<Map<string, Flavor>> {
    const list = await this.core.inventory.list('flavor', { limit: 100_000, shared: true });
    return this.flavorMaps.get('all', list.versions, () => new Map(list.items.map((f) => [f.id, f])));
  }

  /** `/compute/` (a tag mixin's members, computes and storages, are tagged.ts's). */
  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const filter = await computeFilter(this.core, req);
    // An encoded page (JSON, uri-list) is answered as it was sent last time while no compute and no flavor changed
    // since (the inventory's generations): tools poll the same pages, and listing them again costs per item.
    const encoded = n.as !== 'plain' && n.as !== 'occi';
    const key = `${n.as} ${baseOf(req)} ${req.originalUrl} ${req.get('category') ?? ''} ${req.get('x-occi-attribute') ?? ''}`;
    const generations = encoded
      ? [await this.core.inventory.generation('instance', filter.providers), await this.core.inventory.generation('flavor')]
      : [];
    const kept = encoded ? this.pages.peek(key, generations) : undefined;
    if (kept !== undefined) {
      if (kept.link !== undefined) res.setHeader('Link', kept.link);
      send(res, 200, n, kept.rendered);
      return;
    }
    const [listing, flavors] = await Promise.all([
      this.core.inventory.list('instance', { limit: skip + limit, shared: true, ...filter }),
      n.as === 'json' ? this.flavors() : undefined,
    ]);
    const items = listing.items.slice(skip);
    if (items.length === 0 && skip > 0) throw new OcciError(404, `page ${queryOf(req).page}: past the last page of ${req.path}`);
    const link =
      listing.nextCursor === undefined
        ? undefined
        : `<${baseOf(req)}${req.path}?page=${skip / limit + 2}&number=${limit}>; rel="next"`;
    if (link !== undefined) res.setHeader('Link', link);
    const versions = listing.versions.slice(skip);
    const base = baseOf(req);
    // Whether each compute's provider can suspend decides whether `suspend` is advertised; asked once per provider.
    const byProvider = new Map<string, boolean>();
    const suspends = (provider: string) => {
      const known = byProvider.get(provider);
      if (known !== undefined) return known;
      const can = this.suspends(provider);
      byProvider.set(provider, can);
      return can;
    };
    const canSuspend = items.map((i) => suspends(i.provider));
    const render = () => {
      const entities = items.map((i, k) => ({
        location: `/compute/${i.id}`,
        json: () => {
          const flavor = flavors?.get(i.flavorId);
          return this.fragments.get(i.id, [versions[k], flavor, canSuspend[k]], () =>
            collectionItemJson(computeOf(i, flavor, [], canSuspend[k])),
          );
        },
      }));
      const out = renderCollection(entities, 'resources', n.as, base);
      return out.body === undefined ? out : { ...out, body: Buffer.from(out.body) };
    };
    const rendered = render();
    if (encoded) this.pages.put(key, generations, { rendered, ...(link !== undefined && { link }) });
    send(res, 200, n, rendered);
  };

  /** A compute as GET renders it, with its links (its interface and the storages attached to it). */
  private async current(id: string) {
    const [instance, flavors, volumes] = await Promise.all([
      this.core.inventory.get('instance', id),
      this.flavors(),
      this.core.inventory.list('volume', { limit: 100_000, where: (v) => (v as { attachedTo?: string }).attachedTo === id }),
    ]);
    return { instance, flavors, entity: this.render(instance, flavors, volumes.items) };
  }

  get = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderResource((await this.current(String(req.params.id))).entity, n.as));
  };

  private render(i: Instance, flavors: Map<string, Flavor>, volumes: unknown[] = []) {
    const links: OcciLink[] = [networkInterfaceOf(i)];
    for (const v of volumes as Parameters<typeof storageLinkOf>[0][]) {
      const l = storageLinkOf(v);
      if (l) links.push(l);
    }
    return computeOf(i, flavors.get(i.flavorId), links, this.suspends(i.provider));
  }

  /** Whether `provider` can suspend now (OpenStack knows once authenticated); a provider no longer configured cannot. */
  private suspends(provider: string): boolean {
    try {
      return this.core.providers.capabilities(provider).suspend;
    } catch {
      return false;
    }
  }

  /**
   * A create launches one instance and waits (bounded) until the provider has named it, so the answer
   * can be 201 with its Location; its state is then whatever the provider says (usually inactive/pending).
   */
  create = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, typeof req.body === 'string' ? req.body : '', req.headers);
    kindOf(body, KINDS.compute, true);
    if (body.categories.some((c) => c.class === 'action')) throw badRequest('a create names no action');
    const t = await resolveMixins(
      this.core,
      body.categories.filter((c) => c.class === 'mixin'),
    );
    // ipnetwork and ipnetworkinterface are static mixins too, but of a network and of a link (inline, below).
    const elsewhere = t.extras.find((m) => m.applies !== undefined && !m.applies.includes(idOf(KINDS.compute)));
    if (elsewhere) throw badRequest(`mixin ${idOf(elsewhere)}: applies to ${elsewhere.applies?.join(' ')}, not to a compute`);
    checkAttributes(body.attributes, { ...defsOf(KINDS.compute, ...t.extras), ...PROVIDER_ATTRS }, 'create');
    if (!t.image || !t.provider)
      throw badRequest(`mixin os_tpl: a compute needs one (an image); see ${idOf(MIXINS.os_tpl)} in /-/`);
    const userData = str(body.attributes['occi.compute.userdata']);
    const network = networkOfLinks(body.links);
    const op = await this.core.launches.launch(
      {
        provider: t.provider,
        imageId: t.image.nativeId,
        ...(t.flavor && { flavorId: t.flavor.nativeId }),
        ...(str(body.attributes['skygate.zone']) !== undefined && { zone: str(body.attributes['skygate.zone']) }),
        ...(str(body.attributes['occi.core.title']) !== undefined && { name: str(body.attributes['occi.core.title']) }),
        ...(str(body.attributes['occi.core.summary']) !== undefined && {
          tags: { [SUMMARY_TAG]: str(body.attributes['occi.core.summary']) as string },
        }),
        ...(userData !== undefined && { userData: decodeUserData(userData) }),
        ...(str(body.attributes['occi.credentials.ssh.publickey']) !== undefined && {
          keyName: str(body.attributes['occi.credentials.ssh.publickey']),
        }),
        ...(network !== undefined && { network }),
      },
      callerOf(req, res),
    );
    const { instances } = await this.core.launches.created(op.id, CREATE_WAIT_MS);
    const instance = instances[0];
    if (!instance) throw new OcciError(500, `operation ${op.id} created no compute`);
    res.setHeader('Location', `${baseOf(req)}/compute/${instance.id}`);
    send(res, 201, n, renderResource(this.render(instance, await this.flavors()), n.as));
  };

  /** POST /compute/{id}: an action (`?action=`) or a partial update. */
  post = async (req: Request, res: Response) => {
    if (queryOf(req).action === undefined) return this.update(req, res);
    const n = negotiate(req, false);
    const id = String(req.params.id);
    const { action, attributes } = readAction(req, n, ACTIONS);
    const caller = callerOf(req, res);
    switch (action) {
      case 'start':
      case 'stop':
        await this.core.resources.instanceAction(id, action, caller);
        break;
      case 'restart':
        await this.core.resources.instanceAction(id, 'reboot', caller);
        break;
      case 'suspend':
        // A provider that cannot suspend (AWS) is GFD.223's action not applicable, with the core's reason; the
        // compute must exist first (404), and a compute that is not running is a conflict (409) as for the others.
        await this.core.resources.instanceAction(id, 'suspend', caller).catch((e: unknown) => {
          const err = toSkygateError(e);
          throw err.code === 'unsupported' ? notApplicable('suspend', err.message) : e;
        });
        break;
      case 'save': {
        const name = str(attributes.name) ?? `${id.split(':')[1]}-saved-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const op = await this.core.resources.snapshotInstance(id, { name }, caller);
        // GFD.224: save answers the new os_tpl, so wait (bounded) until the provider has named the image.
        const named = await this.core.operations.waitFor(op.id, (o) => o.target !== undefined, CREATE_WAIT_MS);
        if (named?.status === 'failed' && named.error) throw new OcciError(409, `action save: ${named.error.message}`);
        if (named?.target === undefined)
          throw new OcciError(503, `action save: the provider is still creating the image (operation ${op.id}); retry`);
        const image = await this.core.inventory.get('image', named.target);
        send(res, 200, n, renderCategories([osTplCategory(image)], n.as));
        return;
      }
    }
    send(res, 200, n, { lines: [] });
  };

  /**
   * PUT (the full set) and POST without an action (partial update, GFD.223): read and checked by `readUpdate`
   * (title = the name, summary and user mixins = tags; templates, provider, cores, memory... are immutable and may
   * only be repeated as they are), then one core call renames and retags the instance.
   */
  update = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = readBody(req, n);
    const id = String(req.params.id);
    const { instance, entity } = await this.current(id);
    const change = readUpdate(body, req.method === 'PUT', {
      kind: KINDS.compute,
      defs: { ...defsOf(KINDS.compute), ...PROVIDER_ATTRS },
      now: entity,
      tags: instance.tags,
    });
    if (change.name === undefined && change.tags === undefined) {
      send(res, 200, n, renderResource(entity, n.as));
      return;
    }
    const updated = await this.core.resources.update('instance', id, change, callerOf(req, res), 'attribute occi.core.title');
    send(res, 200, n, renderResource((await this.current(updated.id)).entity, n.as));
  };

  delete = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    await this.core.resources.instanceAction(String(req.params.id), 'delete', callerOf(req, res));
    send(res, 200, n, { lines: [] });
  };
}

/** occi.compute.userdata is base64 (GFD.224 §3.4.3); the core takes the text. */
function decodeUserData(b64: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
    throw badRequest('attribute occi.compute.userdata: must be base64');
  return Buffer.from(b64, 'base64').toString('utf8');
}
