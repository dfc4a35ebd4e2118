/** /storage/ and /storagelink/: volumes and their attachments (networks: network.ts; interfaces: network-interface.ts). */
import type { Request, Response } from 'express';
import { type CoreServices, checkName, type Volume } from '../../core/index.js';
import { readAction } from './action.js';
import { KINDS, PROVIDER_ATTRS, STORAGE_ACTIONS } from './categories.js';
import { checkAttributes, defsOf, kindOf, str } from './check.js';
import { idIn, locationOf, SUMMARY_TAG, storageLinkOf, storageOf } from './entities.js';
import { badRequest, notApplicable, OcciError } from './errors.js';
import { storageFilter } from './filter.js';
import { baseOf, callerOf, negotiate, queryOf, send } from './http.js';
import { pageOf } from './paging.js';
import { parseRequest } from './parse.js';
import { readBody, readUpdate, refuseChanges } from './update.js';
import { resolveMixins } from './query-model.js';
import { CREATE_WAIT_MS } from './compute.js';
import { collectionItemJson, renderCollection, renderLink, renderLinkCollection, renderResource } from './render.js';

const bodyOf = (req: Request) => (typeof req.body === 'string' ? req.body : '');

/** `/compute/{id}` (relative or absolute) -> the id, for link sources and targets. */
function idAt(location: string | undefined, kind: 'compute' | 'storage', field: string): string {
  const id = location === undefined ? undefined : idIn(location, kind);
  if (!id) throw badRequest(`attribute ${field}: must be the location of a ${kind} (/${kind}/{id})`);
  return id;
}

/** Why a storage's size cannot change: the same reason the resize action gives. */
const noResize = (provider: string) =>
  `skygate cannot resize volumes at provider '${provider}' (no adapter resizes them yet); create a larger storage instead`;

export class StorageHandlers {
  constructor(private readonly core: CoreServices) {}

  list = async (req: Request, res: Response) => {
    const n = negotiate(req, true);
    const { limit, skip } = pageOf(req);
    const listing = await this.core.inventory.list('volume', {
      limit: skip + limit,
      shared: true,
      ...storageFilter(this.core, req),
    });
    const items = listing.items.slice(skip);
    if (items.length === 0 && skip > 0) throw new OcciError(404, `page ${queryOf(req).page}: past the last page of /storage/`);
    const entities = items.map((v) => ({
      location: locationOf('storage', v.id),
      json: () => collectionItemJson(storageOf(v)),
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
        ...(str(body.attributes['occi.core.summary']) !== undefined && {
          tags: { [SUMMARY_TAG]: str(body.attributes['occi.core.summary']) as string },
        }),
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

  /**
   * POST /storage/{id}: a partial update without `?action=`; with it, an action. snapshot is the core's snapshot
   * create (answered once accepted; the snapshot is in /v1/snapshots). The other GFD.224 storage actions have no
   * counterpart in skygate's clouds.
   */
  post = async (req: Request, res: Response) => {
    if (queryOf(req).action === undefined) return this.update(req, res);
    const n = negotiate(req, false);
    const { action, attributes } = readAction(req, n, STORAGE_ACTIONS);
    const volume = await this.core.inventory.get('volume', String(req.params.id));
    const at = `at provider '${volume.provider}'`;
    switch (action) {
      case 'snapshot': {
        const name = str(attributes.name) ?? `${volume.nativeId}-snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        checkName(name, 'attribute name');
        await this.core.resources.createSnapshot({ volumeId: volume.id, name }, callerOf(req, res));
        break;
      }
      case 'online':
        throw notApplicable(action, `a volume ${at} is online for as long as it exists; there is no offline volume to bring up`);
      case 'offline':
        throw notApplicable(action, `skygate cannot take a volume ${at} offline; detach it (DELETE its storagelink) instead`);
      case 'backup':
        throw notApplicable(action, `skygate keeps no backups apart from snapshots ${at}; use ?action=snapshot`);
      case 'resize':
        throw notApplicable(action, noResize(volume.provider));
    }
    send(res, 200, n, { lines: [] });
  };

  /**
   * PUT (the full set) and POST without an action (partial update, GFD.223), read and checked as a compute's
   * (`readUpdate`): the title renames the volume, summary and user mixins are tags; state, zone and the provider
   * mixin are immutable, and the size cannot change for the resize action's reason. One core call applies it.
   */
  update = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = readBody(req, n);
    const id = String(req.params.id);
    const volume = await this.core.inventory.get('volume', id);
    const change = readUpdate(body, req.method === 'PUT', {
      kind: KINDS.storage,
      defs: { ...defsOf(KINDS.storage), ...PROVIDER_ATTRS },
      now: storageOf(volume),
      tags: volume.tags,
      reasons: { 'occi.storage.size': `not applicable: ${noResize(volume.provider)}` },
    });
    const updated =
      change.name === undefined && change.tags === undefined
        ? volume
        : await this.core.resources.update('volume', id, change, callerOf(req, res), 'attribute occi.core.title');
    send(res, 200, n, renderResource(storageOf(updated), n.as));
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
    send(res, 200, n, renderLinkCollection(links, n.as, baseOf(req)));
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

  /**
   * PUT and POST on a storagelink: what a link is (its compute, storage and device) is fixed once attached here,
   * so repeating it is a 200 and changing any of it a 400 naming the attribute. Moving an attachment is a detach
   * then an attach, which is not atomic: the client does both, seeing each answer.
   */
  updateLink = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    const body = readBody(req, n);
    kindOf(body, KINDS.storagelink, false);
    const volume = await this.core.inventory.get('volume', String(req.params.id));
    const link = storageLinkOf(volume);
    if (!link) throw new OcciError(404, `storagelink '${volume.id}' does not exist (the storage is not attached)`);
    if (body.categories.some((c) => c.class !== 'kind')) throw badRequest('a storagelink takes no mixin and, here, no action');
    const fixed = 'a storagelink is fixed once attached; DELETE it and POST a new one to /storagelink/ to change it';
    const current = { ...link.attributes };
    // Clients send back the locations they read, relative or absolute: compare the ids they name.
    for (const [name, kind] of [
      ['occi.core.source', 'compute'],
      ['occi.core.target', 'storage'],
    ] as const) {
      const v = str(body.attributes[name]);
      if (v !== undefined && idAt(v, kind, name) === idAt(str(current[name]), kind, name)) current[name] = v;
    }
    refuseChanges(
      body.attributes,
      current,
      Object.fromEntries(
        Object.keys(defsOf(KINDS.storagelink))
          .filter((name) => name !== 'occi.core.id')
          .map((name) => [name, fixed]),
      ),
    );
    checkAttributes(body.attributes, defsOf(KINDS.storagelink), 'update', ['occi.core.id'], current);
    send(res, 200, n, renderLink(link, n.as));
  };

  deleteLink = async (req: Request, res: Response) => {
    const n = negotiate(req, false);
    await this.core.resources.volumeAction(String(req.params.id), 'detach', callerOf(req, res));
    send(res, 200, n, { lines: [] });
  };
}
