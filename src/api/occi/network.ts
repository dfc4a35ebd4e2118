/**
 * /network/: each provider's default network (network.defaults) and the networks created beside it where the
 * provider has the networks capability (network.create/list/update/delete). Creating answers at once: no operation.
 */
import type { Request, Response } from 'express';
import { type CoreServices, checkName, checkTags, type Tags } from '../../core/index.js';
import { readAction } from './action.js';
import { idOf, KINDS, MIXINS, NETWORK_ACTIONS, PROVIDER_SCHEME, TAG_SCHEME } from './categories.js';
import { categoryId, checkAttributes, defsOf, kindOf, str } from './check.js';
import { locationOf, networkOf, type OcciResource, SUMMARY_TAG, TERM } from './entities.js';
import { badRequest, notApplicable, OcciError } from './errors.js';
import { networkFilter } from './filter.js';
import { baseOf, negotiate, queryOf, send } from './http.js';
import { type ParsedCategory, parseRequest } from './parse.js';
import { resolveMixins } from './query-model.js';
import { collectionItemJson, renderCollection, renderResource } from './render.js';

const bodyOf = (req: Request) => (typeof req.body === 'string' ? req.body : '');
const IP_NETWORK = idOf(MIXINS.ipnetwork);

/** A network entity and the tags it was rendered from (an update computes the new set from them). */
interface Listed {
  entity: OcciResource;
  tags: Tags;
}

export class NetworkHandlers {
  constructor(private readonly core: CoreServices) {}

  /** The default networks, then the created ones, provider by provider as configured. */
  private async networks(): Promise<Listed[]> {
    const providers = this.core.providers.ids();
    const [defaults, created] = await Promise.all([
      Promise.all(providers.map((p) => this.core.network.defaults(p))),
      this.core.network.list(providers),
    ]);
    return [
      ...defaults.map((d) => ({ entity: networkOf({ provider: d.provider, id: d.network.id, cidr: d.network.cidr }), tags: {} })),
      ...created.map((c) => ({ entity: this.render(c), tags: c.tags })),
    ];
  }

  private render(c: Awaited<ReturnType<CoreServices['network']['create']>>): OcciResource {
    return networkOf({ provider: c.provider, id: c.id, cidr: c.cidr, title: c.name, gateway: c.gateway, tags: c.tags });
  }

  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const wanted = networkFilter(this.core, req);
    const entities = (await this.networks()).map((l) => l.entity).filter(wanted);
    send(
      res,
      200,
      n,
      renderCollection(
        entities.map((e) => ({ location: e.location, json: () => collectionItemJson(e) })),
        'resources',
        n.as,
        baseOf(req),
      ),
    );
  };

  private async network(id: string): Promise<Listed> {
    const found = (await this.networks()).find((l) => l.entity.id === id);
    if (!found) throw new OcciError(404, `network '${id}' does not exist`);
    return found;
  }

  get = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderResource((await this.network(String(req.params.id))).entity, n.as));
  };

  /**
   * Every check runs before the core is called, and the core validates before the provider creates anything. The
   * block and gateway come from GFD.224's ipnetwork mixin or, as before it, from the kind; user mixins are tags.
   */
  create = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, bodyOf(req), req.headers);
    kindOf(body, KINDS.network, true);
    if (body.categories.some((c) => c.class === 'action')) throw badRequest('a create names no action');
    if (body.links.length > 0) throw badRequest(`${body.links[0]?.where}: a network is created without links`);
    const mixins = body.categories.filter((c) => c.class === 'mixin');
    const t = await resolveMixins(
      this.core,
      mixins.filter((m) => m.scheme !== TAG_SCHEME),
    );
    if (t.image || t.flavor || t.extras.some((e) => e !== MIXINS.ipnetwork))
      throw badRequest(`a network takes a provider mixin, the ipnetwork mixin (${IP_NETWORK}) and user mixins only`);
    checkAttributes(body.attributes, defsOf(KINDS.network, ...t.extras), 'create', ['occi.core.id', 'occi.network.state']);
    if (!t.provider) throw badRequest('mixin provider: a network needs one (see the provider mixins in /-/)');
    checkAllocation(body.attributes['occi.network.allocation']);
    const summary = str(body.attributes['occi.core.summary']);
    const tags: Tags = {
      ...Object.fromEntries(mixins.filter((m) => m.scheme === TAG_SCHEME).map((m) => [m.term, ''])),
      ...(summary !== undefined && { [SUMMARY_TAG]: summary }),
    };
    const gateway = str(body.attributes['occi.network.gateway']);
    const created = await this.core.network.create({
      provider: t.provider,
      name: str(body.attributes['occi.core.title']) ?? `occi-${Date.now()}`,
      cidr: str(body.attributes['occi.network.address']) ?? '',
      ...(gateway !== undefined && { gateway }),
      ...(Object.keys(tags).length > 0 && { tags }),
    });
    res.setHeader('Location', `${baseOf(req)}${locationOf('network', created.id)}`);
    send(res, 201, n, renderResource(this.render(created), n.as));
  };

  /**
   * PUT (the whole entity) and POST without an action (partial update, GFD.223): `occi.core.title` renames a created
   * network, `occi.core.summary` is kept as a tag, user mixins are tags (PUT names the whole set). The block,
   * gateway, allocation, state and provider are immutable: repeated as they are, they pass; another value is a 400
   * naming it. Only a change goes to the core, in one `network.update`; the default network, which skygate
   * synthesizes, takes none (the core's 400 says why), though a PUT of it as read is a harmless 200.
   */
  update = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, bodyOf(req), req.headers);
    kindOf(body, KINDS.network, false);
    if (body.categories.some((c) => c.class === 'action'))
      throw badRequest('an update names no action (POST ?action=up|down for that)');
    const id = String(req.params.id);
    const { entity, tags } = await this.network(id);
    if (body.links.length > 0)
      throw badRequest(`${body.links[0]?.where}: a network has no links of its own (its computes link to it)`);
    checkAttributes(body.attributes, defsOf(KINDS.network, MIXINS.ipnetwork), 'update', ['occi.core.id'], entity.attributes);
    const terms = userMixinTerms(
      body.categories.filter((c) => c.class === 'mixin'),
      entity.mixins,
    );
    const title = str(body.attributes['occi.core.title']);
    const summary = str(body.attributes['occi.core.summary']);
    if (title !== undefined) checkName(title, 'attribute occi.core.title');
    if (summary !== undefined) checkTags({ [SUMMARY_TAG]: summary }, 'attribute occi.core.summary');
    const next = nextTags(tags, terms, summary, req.method === 'PUT');
    const change = {
      ...(title !== undefined && title !== entity.title && { name: title }),
      ...(!sameTags(next, tags) && { tags: next }),
    };
    if (Object.keys(change).length === 0) {
      send(res, 200, n, renderResource(entity, n.as));
      return;
    }
    send(res, 200, n, renderResource(this.render(await this.core.network.update(id, change, 'path.id')), n.as));
  };

  /** A default network stays (launches default to it); a created one in use is the provider's 409. */
  delete = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const id = String(req.params.id);
    await this.network(id); // 404 for an unknown one, as GET answers
    await this.core.network.delete(id, 'id');
    send(res, 200, n, { lines: [] });
  };

  /** POST /network/{id}: an action (`?action=`) or a partial update. */
  post = async (req: Request, res: Response) => {
    if (queryOf(req).action === undefined) return this.update(req, res);
    return this.action(req, res);
  };

  /** up is harmless on a network that is always up (as start on a running compute); down does not apply. */
  private action = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const { action } = readAction(req, n, NETWORK_ACTIONS);
    const { entity } = await this.network(String(req.params.id));
    if (action === 'down') {
      throw notApplicable(
        action,
        `skygate cannot take ${entity.title} down: no cloud adapter takes networks down (and a default network is what launches default to)`,
      );
    }
    send(res, 200, n, { lines: [] });
  };
}

/** GFD.224 allocation: the providers behind skygate assign each interface's address from the block (dynamic). */
function checkAllocation(v: unknown): void {
  if (v !== undefined && v !== 'dynamic')
    throw badRequest(
      `attribute occi.network.allocation: only dynamic (the provider assigns each interface an address from the block), not ${JSON.stringify(v)}`,
    );
}

/**
 * The user mixins an update names, as tag keys. The network's own provider and ipnetwork mixins may be repeated (a
 * PUT sends them back); another provider is moving the network, which is immutable.
 */
function userMixinTerms(mixins: ParsedCategory[], own: string[]): string[] {
  const terms: string[] = [];
  for (const m of mixins) {
    const id = categoryId(m);
    if (m.scheme === TAG_SCHEME) terms.push(m.term);
    else if (own.includes(id)) continue;
    else if (m.scheme === PROVIDER_SCHEME) {
      const same = own.find((o) => o.startsWith(PROVIDER_SCHEME));
      throw badRequest(`mixin ${id}: the provider of a network is immutable (it is ${same}); create a network there instead`);
    } else throw badRequest(`mixin ${id}: only user mixins (scheme ${TAG_SCHEME}) can be added to a network`);
  }
  return terms;
}

/**
 * The whole new tag set: user mixins named are added (one the network carries keeps its value), the summary set;
 * a PUT also drops the user mixins and summary it leaves out. Tags whose key is not a term (`Name`) stay.
 */
function nextTags(tags: Tags, terms: string[], summary: string | undefined, put: boolean): Tags {
  const next: Tags = {};
  for (const [k, v] of Object.entries(tags)) {
    const dropped = put && ((TERM.test(k) && !terms.includes(k)) || (k === SUMMARY_TAG && summary === undefined));
    if (!dropped) next[k] = v;
  }
  for (const t of terms) next[t] ??= '';
  if (summary !== undefined) next[SUMMARY_TAG] = summary;
  return next;
}

const sameTags = (a: Tags, b: Tags) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
