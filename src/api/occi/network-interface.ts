/**
 * /networkinterface/: a compute's one interface, on the network its create named (else its provider's default).
 * skygate's adapters give a compute its interface at launch and have no port to add, move or remove one, so an
 * interface is read, repeated as read, and otherwise refused with the reason.
 */
import type { Request, Response } from 'express';
import type { CoreServices } from '../../core/index.js';
import { idOf, KINDS, MIXINS } from './categories.js';
import { categoryId, checkAttributes, defsOf, kindOf, str } from './check.js';
import { networkInterfaceOf } from './entities.js';
import { badRequest, OcciError } from './errors.js';
import { baseOf, negotiate, queryOf, send } from './http.js';
import { pageOf } from './paging.js';
import { renderLink, renderLinkCollection } from './render.js';
import { locationPath, readBody, refuseChanges } from './update.js';

const FIXED = "a compute's interface is fixed: its network is chosen by the compute's create (a networkinterface link)";
const DEFS = defsOf(KINDS.networkinterface, MIXINS.ipnetworkinterface);

export class NetworkInterfaceHandlers {
  constructor(private readonly core: CoreServices) {}

  /** One interface per compute, paged as computes are (page past the last: 404). */
  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const listing = await this.core.inventory.list('instance', { limit: skip + limit, shared: true });
    const links = listing.items.slice(skip).map((i) => networkInterfaceOf(i));
    if (links.length === 0 && skip > 0) throw new OcciError(404, `page ${queryOf(req).page}: past the last page of ${req.path}`);
    if (listing.nextCursor !== undefined) {
      res.setHeader('Link', `<${baseOf(req)}${req.path}?page=${skip / limit + 2}&number=${limit}>; rel="next"`);
    }
    send(res, 200, n, renderLinkCollection(links, n.as, baseOf(req)));
  };

  get = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderLink(networkInterfaceOf(await this.core.inventory.get('instance', String(req.params.id))), n.as));
  };

  /** PUT and partial update: the interface as read (locations relative or absolute) is a 200; any change a 400. */
  update = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = readBody(req, n);
    kindOf(body, KINDS.networkinterface, false);
    const link = networkInterfaceOf(await this.core.inventory.get('instance', String(req.params.id)));
    for (const c of body.categories) {
      if (c.class === 'kind' || link.mixins.includes(categoryId(c))) continue;
      throw badRequest(`${c.class} ${categoryId(c)}: ${FIXED}`);
    }
    const current = { ...link.attributes };
    for (const name of ['occi.core.source', 'occi.core.target']) {
      const v = str(body.attributes[name]);
      if (v !== undefined && locationPath(v) === current[name]) current[name] = v;
    }
    const ipOnly = Object.keys(MIXINS.ipnetworkinterface.attributes ?? {});
    refuseChanges(
      body.attributes,
      current,
      Object.fromEntries(
        Object.keys(DEFS)
          .filter((a) => a !== 'occi.core.id' && (link.mixins.includes(idOf(MIXINS.ipnetworkinterface)) || !ipOnly.includes(a)))
          .map((a) => [a, FIXED]),
      ),
    );
    checkAttributes(body.attributes, DEFS, 'update', ['occi.core.id'], current);
    send(res, 200, n, renderLink(link, n.as));
  };

  /** POST /networkinterface/: no adapter adds an interface to a compute that exists. */
  create = async (req: Request, _res: Response) => {
    negotiate(req, false);
    throw new OcciError(
      501,
      `skygate cannot add an interface to a compute that exists (no cloud adapter does); ${FIXED}: POST /compute/ with that link`,
    );
  };

  /** A compute's only interface goes with the compute. */
  delete = async (req: Request, _res: Response) => {
    negotiate(req, false);
    const link = networkInterfaceOf(await this.core.inventory.get('instance', String(req.params.id)));
    throw badRequest(
      `${link.location}: not applicable: it is the only interface of ${link.source.location}, which cannot be without one; DELETE the compute instead`,
    );
  };
}
