/**
 * /network/: each provider's default network (network.defaults) and the networks created beside it where the
 * provider has the networks capability (network.create/list/update/delete). Creating answers at once: no operation.
 */
import type { Request, Response } from 'express';
import { applyTagChange, type CoreServices, type CreatedNetwork, type Tags } from '../../core/index.js';
import { readAction } from './action.js';
import { idOf, KINDS, MIXINS, NETWORK_ACTIONS, TAG_SCHEME } from './categories.js';
import { checkAttributes, checkDynamic, defsOf, kindOf, str } from './check.js';
import { locationOf, networkOf, type OcciResource, SUMMARY_TAG } from './entities.js';
import { badRequest, notApplicable, OcciError } from './errors.js';
import { networkFilter } from './filter.js';
import { baseOf, callerOf, negotiate, queryOf, send } from './http.js';
import { parseRequest } from './parse.js';
import { resolveMixins } from './query-model.js';
import { collectionItemJson, renderCollection, renderResource } from './render.js';
import { readBody, readUpdate } from './update.js';

const bodyOf = (req: Request) => (typeof req.body === 'string' ? req.body : '');
const IP_NETWORK = idOf(MIXINS.ipnetwork);

/** A network entity and the tags it was rendered from (an update computes the new set from them). */
export interface Listed {
  entity: OcciResource;
  tags: Tags;
}

/** The default networks, then the created ones, provider by provider as configured. */
export async function networkEntities(core: CoreServices): Promise<Listed[]> {
  const providers = core.providers.ids();
  const [defaults, created] = await Promise.all([
    Promise.all(providers.map((p) => core.network.defaults(p))),
    core.network.list(providers),
  ]);
  return [
    ...defaults.map((d) => ({ entity: networkOf({ provider: d.provider, id: d.network.id, cidr: d.network.cidr }), tags: {} })),
    ...created.map((c) => ({ entity: createdNetworkOf(c), tags: c.tags })),
  ];
}

function createdNetworkOf(c: CreatedNetwork): OcciResource {
  return networkOf({ provider: c.provider, id: c.id, cidr: c.cidr, title: c.name, gateway: c.gateway, tags: c.tags });
}

export class NetworkHandlers {
  constructor(private readonly core: CoreServices) {}

  private networks = () => networkEntities(this.core);
  private render = createdNetworkOf;

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
    checkDynamic(body.attributes, 'occi.network.allocation');
    const summary = str(body.attributes['occi.core.summary']);
    const tags: Tags = {
      ...Object.fromEntries(mixins.filter((m) => m.scheme === TAG_SCHEME).map((m) => [m.term, ''])),
      ...(summary !== undefined && { [SUMMARY_TAG]: summary }),
    };
    const gateway = str(body.attributes['occi.network.gateway']);
    const created = await this.core.network.create(
      {
        provider: t.provider,
        name: str(body.attributes['occi.core.title']) ?? `occi-${Date.now()}`,
        cidr: str(body.attributes['occi.network.address']) ?? '',
        ...(gateway !== undefined && { gateway }),
        ...(Object.keys(tags).length > 0 && { tags }),
      },
      callerOf(req, res),
    );
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
    const id = String(req.params.id);
    const { entity, tags } = await this.network(id);
    const change = readUpdate(readBody(req, n), req.method === 'PUT', {
      kind: KINDS.network,
      defs: defsOf(KINDS.network, MIXINS.ipnetwork),
      now: entity,
      tags,
    });
    if (change.name === undefined && change.tags === undefined) {
      send(res, 200, n, renderResource(entity, n.as));
      return;
    }
    const updated = await this.core.network.update(
      id,
      {
        ...(change.name !== undefined && { name: change.name }),
        ...(change.tags !== undefined && { tags: applyTagChange(tags, change.tags) }),
      },
      callerOf(req, res),
      'path.id',
    );
    send(res, 200, n, renderResource(this.render(updated), n.as));
  };

  /** A default network stays (launches default to it); a created one in use is the provider's 409. */
  delete = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const id = String(req.params.id);
    await this.network(id); // 404 for an unknown one, as GET answers
    await this.core.network.delete(id, callerOf(req, res), 'id');
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
