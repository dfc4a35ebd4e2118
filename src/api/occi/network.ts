/**
 * /network/: each provider's default network (network.defaults) and the networks created beside it where the
 * provider has the networks capability (network.create/list/delete). Creating answers at once: no operation.
 */
import type { Request, Response } from 'express';
import type { CoreServices } from '../../core/index.js';
import { readAction } from './action.js';
import { KINDS, NETWORK_ACTIONS } from './categories.js';
import { checkAttributes, defsOf, kindOf, str } from './check.js';
import { locationOf, networkOf, type OcciResource } from './entities.js';
import { badRequest, notApplicable, OcciError } from './errors.js';
import { networkFilter } from './filter.js';
import { baseOf, negotiate, queryOf, send } from './http.js';
import { parseRequest } from './parse.js';
import { resolveMixins } from './query-model.js';
import { collectionItemJson, renderCollection, renderResource } from './render.js';

const bodyOf = (req: Request) => (typeof req.body === 'string' ? req.body : '');

export class NetworkHandlers {
  constructor(private readonly core: CoreServices) {}

  /** The default networks, then the created ones, provider by provider as configured. */
  private async networks(): Promise<OcciResource[]> {
    const providers = this.core.providers.ids();
    const [defaults, created] = await Promise.all([
      Promise.all(providers.map((p) => this.core.network.defaults(p))),
      this.core.network.list(providers),
    ]);
    return [
      ...defaults.map((d) => networkOf({ provider: d.provider, id: d.network.id, cidr: d.network.cidr })),
      ...created.map((c) => networkOf({ provider: c.provider, id: c.id, cidr: c.cidr, title: c.name, gateway: c.gateway })),
    ];
  }

  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const wanted = networkFilter(this.core, req);
    const entities = (await this.networks()).filter(wanted);
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

  private async network(id: string): Promise<OcciResource> {
    const found = (await this.networks()).find((e) => e.id === id);
    if (!found) throw new OcciError(404, `network '${id}' does not exist`);
    return found;
  }

  get = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderResource(await this.network(String(req.params.id)), n.as));
  };

  /** Every check runs before the core is called, and the core validates before the provider creates anything. */
  create = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, bodyOf(req), req.headers);
    kindOf(body, KINDS.network, true);
    const t = await resolveMixins(
      this.core,
      body.categories.filter((c) => c.class === 'mixin'),
    );
    if (t.image || t.flavor || t.extras.length > 0) throw badRequest('a network takes only a provider mixin');
    checkAttributes(body.attributes, defsOf(KINDS.network), 'create', ['occi.core.id', 'occi.network.state']);
    if (!t.provider) throw badRequest('mixin provider: a network needs one (see the provider mixins in /-/)');
    const gateway = str(body.attributes['occi.network.gateway']);
    const created = await this.core.network.create({
      provider: t.provider,
      name: str(body.attributes['occi.core.title']) ?? `occi-${Date.now()}`,
      cidr: str(body.attributes['occi.network.address']) ?? '',
      ...(gateway !== undefined && { gateway }),
    });
    const entity = networkOf({
      provider: created.provider,
      id: created.id,
      cidr: created.cidr,
      title: created.name,
      gateway: created.gateway,
    });
    res.setHeader('Location', `${baseOf(req)}${locationOf('network', created.id)}`);
    send(res, 201, n, renderResource(entity, n.as));
  };

  /** A default network stays (every compute of its provider is on it): the core refuses it with the reason. */
  delete = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const id = String(req.params.id);
    await this.network(id); // 404 for an unknown one, as GET answers
    await this.core.network.delete(id, 'id');
    send(res, 200, n, { lines: [] });
  };

  /** up is harmless on a network that is always up (as start on a running compute); down does not apply. */
  action = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    if (queryOf(req).action === undefined) {
      throw new OcciError(405, `POST ${req.path} takes an action (?action=up|down); a network is not updated in place`);
    }
    const { action } = readAction(req, n, NETWORK_ACTIONS);
    const network = await this.network(String(req.params.id));
    if (action === 'down') {
      throw notApplicable(
        action,
        `skygate cannot take ${network.title} down: a default network is what every compute there is on, and no cloud adapter takes networks down`,
      );
    }
    send(res, 200, n, { lines: [] });
  };
}
