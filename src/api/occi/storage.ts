/** /storage/, /storagelink/, /network/ and /networkinterface/: volumes, their attachments, and the default networks. */
import type { Request, Response } from 'express';
import type { CoreServices, Volume } from '../../core/index.js';
import { KINDS, PROVIDER_ATTRS } from './categories.js';
import { checkAttributes, defsOf, kindOf, str } from './check.js';
import { linkJson } from './render.js';
import { locationOf, networkInterfaceOf, networkOf, storageLinkOf, storageOf } from './entities.js';
import { badRequest, OcciError } from './errors.js';
import { baseOf, callerOf, negotiate, send } from './http.js';
import { pageOf } from './paging.js';
import { parseRequest } from './parse.js';
import { resolveMixins } from './query-model.js';
import { CREATE_WAIT_MS } from './compute.js';
import { renderCollection, renderLink, renderResource, resourceJson } from './render.js';

const bodyOf = (req: Request) => (typeof req.body === 'string' ? req.body : '');

/** `/compute/{id}` (relative or absolute) -> the id, for link sources and targets. */
function idAt(location: string | undefined, kind: 'compute' | 'storage', field: string): string {
  const m = location === undefined ? null : new RegExp(`(?:^|/)${kind}/([^/?#]+)$`).exec(location);
  if (!m?.[1]) throw badRequest(`attribute ${field}: must be the location of a ${kind} (/${kind}/{id})`);
  return decodeURIComponent(m[1]);
}

export class StorageHandlers {
  constructor(private readonly core: CoreServices) {}

  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const listing = await this.core.inventory.list('volume', { limit: skip + limit, shared: true });
    const items = listing.items.slice(skip);
    if (items.length === 0 && skip > 0) throw new OcciError(404, `page ${req.query.page}: past the last page of /storage/`);
    const entities = items.map((v) => ({
      location: locationOf('storage', v.id),
      json: () => JSON.stringify(resourceJson(storageOf(v))),
    }));
    send(res, 200, n, renderCollection(entities, 'resources', n.as, baseOf(req)));
  };

  get = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderResource(storageOf(await this.core.inventory.get('volume', String(req.params.id))), n.as));
  };

  /** A create waits (bounded) for the provider to name the volume, then answers 201 with its Location. */
  create = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, bodyOf(req), req.headers);
    kindOf(body, KINDS.storage, true);
    const t = await resolveMixins(
      this.core,
      body.categories.filter((c) => c.class === 'mixin'),
    );
    if (t.image || t.flavor || t.extras.length > 0) throw badRequest('a storage takes only a provider mixin');
    checkAttributes(body.attributes, { ...defsOf(KINDS.storage), ...PROVIDER_ATTRS }, 'create');
    if (!t.provider) throw badRequest('mixin provider: a storage needs one (see the provider mixins in /-/)');
    const size = body.attributes['occi.storage.size'] as number;
    if (!Number.isInteger(size) || size < 1)
      throw badRequest('attribute occi.storage.size: must be a whole number of GiB from 1');
    const op = await this.core.resources.createVolume(
      {
        provider: t.provider,
        name: str(body.attributes['occi.core.title']) ?? `occi-${Date.now()}`,
        sizeGiB: size,
        ...(str(body.attributes['skygate.zone']) !== undefined && { zone: str(body.attributes['skygate.zone']) }),
      },
      callerOf(req, res),
    );
    const named = await this.core.operations.waitFor(op.id, (o) => o.target !== undefined, CREATE_WAIT_MS);
    if (named?.status === 'failed' && named.error) throw new OcciError(409, named.error.message);
    if (named?.target === undefined)
      throw new OcciError(503, `the provider is still creating the storage (operation ${op.id}); retry`);
    const volume = await this.core.inventory.get('volume', named.target);
    res.setHeader('Location', `${baseOf(req)}${locationOf('storage', volume.id)}`);
    send(res, 201, n, renderResource(storageOf(volume), n.as));
  };

  delete = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    await this.core.resources.volumeAction(String(req.params.id), 'delete', callerOf(req, res));
    send(res, 200, n, { lines: [] });
  };

  // --- storagelink: a volume's attachment (one per volume, so the link's id is the volume's)

  listLinks = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const listing = await this.core.inventory.list('volume', {
      limit: skip + limit,
      shared: true,
      where: (v) => (v as Volume).attachedTo !== undefined,
    });
    const links = listing.items.slice(skip).flatMap((v) => storageLinkOf(v) ?? []);
    send(
      res,
      200,
      n,
      renderCollection(
        links.map((l) => ({ location: l.location, json: () => JSON.stringify(linkJson(l)) })),
        'links',
        n.as,
        baseOf(req),
      ),
    );
  };

  getLink = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const volume = await this.core.inventory.get('volume', String(req.params.id));
    const link = storageLinkOf(volume);
    if (!link) throw new OcciError(404, `storagelink '${volume.id}' does not exist (the storage is not attached)`);
    send(res, 200, n, renderLink(link, n.as));
  };

  /** Attaching answers 201 at once: the link's location is known (the volume's id); its state follows. */
  createLink = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = parseRequest(n.input, bodyOf(req), req.headers);
    kindOf(body, KINDS.storagelink, true);
    if (body.categories.some((c) => c.class === 'mixin')) throw badRequest('a storagelink takes no mixin');
    checkAttributes(body.attributes, defsOf(KINDS.storagelink), 'create');
    const computeId = idAt(str(body.attributes['occi.core.source']), 'compute', 'occi.core.source');
    const volumeId = idAt(str(body.attributes['occi.core.target']), 'storage', 'occi.core.target');
    const device = str(body.attributes['occi.storagelink.deviceid']);
    await this.core.resources.attachVolume(
      volumeId,
      { instanceId: computeId, ...(device !== undefined && { device }) },
      callerOf(req, res),
    );
    res.setHeader('Location', `${baseOf(req)}${locationOf('storagelink', volumeId)}`);
    send(res, 201, n, { lines: [], body: '' });
  };

  deleteLink = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    await this.core.resources.volumeAction(String(req.params.id), 'detach', callerOf(req, res));
    send(res, 200, n, { lines: [] });
  };

  // --- the default networks (read only: no adapter port creates networks yet)

  listNetworks = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const nets = await Promise.all(this.core.providers.ids().map((p) => this.core.network.defaults(p)));
    const entities = nets.map((d) => networkOf(d.provider, d.network.id, d.network.cidr));
    send(
      res,
      200,
      n,
      renderCollection(
        entities.map((e) => ({ location: e.location, json: () => JSON.stringify(resourceJson(e)) })),
        'resources',
        n.as,
        baseOf(req),
      ),
    );
  };

  getNetwork = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const id = String(req.params.id);
    const provider = id.split(':')[0] ?? '';
    if (!this.core.providers.has(provider)) throw new OcciError(404, `network '${id}' does not exist`);
    const d = await this.core.network.defaults(provider);
    if (d.network.id !== id) throw new OcciError(404, `network '${id}' does not exist`);
    send(res, 200, n, renderResource(networkOf(d.provider, d.network.id, d.network.cidr), n.as));
  };

  getInterface = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderLink(networkInterfaceOf(await this.core.inventory.get('instance', String(req.params.id))), n.as));
  };
}
