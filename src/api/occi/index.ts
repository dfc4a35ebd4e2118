/**
 * The OGF OCCI 1.2 front (GFD.221/223/224/225/229), mounted at the server root: the query interface at
 * /-/, /compute/, /storage/, /network/ and the links. Each handler parses the OCCI rendering, makes one
 * call to a core service and renders the answer; see README.md here for the mapping.
 */
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { CoreServices } from '../../core/index.js';
import { ComputeHandlers } from './compute.js';
import { type Category, TAG_SCHEME } from './categories.js';
import { badRequest, OcciError, toOcciError } from './errors.js';
import { type ParsedCategory, parseRequest } from './parse.js';
import { authenticate, callerOf, checkVersion, negotiate, route, send } from './http.js';
import { queryModel } from './query-model.js';
import { renderCategories, renderModel } from './render.js';
import { NetworkHandlers } from './network.js';
import { StorageHandlers } from './storage.js';
import { NetworkInterfaceHandlers } from './network-interface.js';
import { TAGGED_INVENTORY_KINDS, TaggedHandlers } from './tagged.js';

export interface OcciOptions {
  bodyLimitBytes: number;
  log: { error(obj: object, msg?: string): void };
}

/** The paths this front owns, so the server can route only these to it. */
export const OCCI_PATHS = [
  '/-/',
  '/.well-known/org/ogf/occi/-/',
  '/compute',
  '/storage',
  '/network',
  '/storagelink',
  '/networkinterface',
  '/mixin',
];

export function createOcciRouter(core: CoreServices, options: OcciOptions): Router {
  const router = express.Router({ strict: true });
  const compute = new ComputeHandlers(core);
  const storage = new StorageHandlers(core);
  const network = new NetworkHandlers(core);
  const tagged = new TaggedHandlers(core);
  const networkInterface = new NetworkInterfaceHandlers(core);

  router.use(OCCI_PATHS, checkVersion, authenticate(core));
  // Every rendering arrives as text; JSON is parsed by the front itself so errors read as OCCI's.
  router.use(OCCI_PATHS, express.text({ type: () => true, limit: options.bodyLimitBytes }));

  const model = route(async (req, res) => {
    const n = negotiate(req, true);
    send(res, 200, n, renderModel(await queryModel(core), n.as));
  });
  for (const p of ['/-/', '/.well-known/org/ogf/occi/-/']) {
    router.get(p, model);
    router.post(p, route(defineUserMixins));
    router.delete(
      p,
      route((req, res) => deleteUserMixins(core, req, res)),
    );
  }

  router.get('/compute/', route(compute.list));
  router.post('/compute/', route(compute.create));
  router.get('/compute/:id', route(compute.get));
  router.post('/compute/:id', route(compute.post));
  router.put('/compute/:id', route(compute.update));
  router.delete('/compute/:id', route(compute.delete));

  router.get('/storage/', route(storage.list));
  router.post('/storage/', route(storage.create));
  router.get('/storage/:id', route(storage.get));
  router.post('/storage/:id', route(storage.post));
  router.put('/storage/:id', route(storage.update));
  router.delete('/storage/:id', route(storage.delete));

  router.get('/storagelink/', route(storage.listLinks));
  router.post('/storagelink/', route(storage.createLink));
  router.get('/storagelink/:id', route(storage.getLink));
  router.post('/storagelink/:id', route(storage.updateLink));
  router.put('/storagelink/:id', route(storage.updateLink));
  router.delete('/storagelink/:id', route(storage.deleteLink));

  router.get('/mixin/tag/:term/', route(tagged.list));

  router.get('/network/', route(network.list));
  router.post('/network/', route(network.create));
  router.get('/network/:id', route(network.get));
  router.post('/network/:id', route(network.post));
  router.put('/network/:id', route(network.update));
  router.delete('/network/:id', route(network.delete));
  router.get('/networkinterface/', route(networkInterface.list));
  router.post('/networkinterface/', route(networkInterface.create));
  router.get('/networkinterface/:id', route(networkInterface.get));
  router.post('/networkinterface/:id', route(networkInterface.update));
  router.put('/networkinterface/:id', route(networkInterface.update));
  router.delete('/networkinterface/:id', route(networkInterface.delete));

  // A known location with a method it does not take.
  // Under /mixin/ only the tag mixins have locations.
  router.all('/mixin/{*rest}', (req, _res, next) => {
    next(new OcciError(req.path.startsWith('/mixin/tag/') ? 405 : 404, `${req.method} ${req.path}: no such mixin location`));
  });
  router.all(
    OCCI_PATHS.filter((p) => p !== '/mixin').map((p) => (p.endsWith('/') ? p : `${p}/{*rest}`)),
    (req, _res, next) => {
      next(new OcciError(405, `${req.method} is not allowed on ${req.path}`));
    },
  );
  router.use(errorHandler(options));
  return router;
}

/**
 * POST /-/: user mixins are tags, so every term of the tag scheme exists already; defining one checks it
 * and answers it (nothing is stored). Mixins of other schemes cannot be defined.
 */
async function defineUserMixins(req: Request, res: Response): Promise<void> {
  const n = negotiate(req, false);
  const mixins = userMixinsOf(req, n, 'defines');
  const categories = mixins.map(
    (m): Category => ({
      term: m.term,
      scheme: m.scheme,
      class: 'mixin',
      title: m.title ?? `tag ${m.term}`,
      location: `/mixin/tag/${m.term}/`,
    }),
  );
  send(res, 200, n, renderCategories(categories, n.as));
}

/** The user mixins a request names; every one must be of the tag scheme (skygate's own mixins are not the user's). */
function userMixinsOf(req: Request, n: ReturnType<typeof negotiate>, verb: string): ParsedCategory[] {
  const body = parseRequest(n.input, typeof req.body === 'string' ? req.body : '', req.headers);
  const mixins = body.categories.filter((c) => c.class === 'mixin');
  if (mixins.length === 0 || mixins.length !== body.categories.length)
    throw badRequest(`${req.method} /-/ ${verb} mixins, and only mixins`);
  for (const m of mixins) {
    if (m.scheme !== TAG_SCHEME) throw badRequest(`mixin ${m.scheme}${m.term}: user mixins are tags, in scheme ${TAG_SCHEME}`);
  }
  return mixins;
}

/**
 * DELETE /-/: a user mixin is deleted by removing its tag from every entity of every tagged kind that carries it
 * (the core's removeTagsEverywhere); afterwards no entity shows it. Every mixin is checked before any tag goes.
 */
async function deleteUserMixins(core: CoreServices, req: Request, res: Response): Promise<void> {
  const n = negotiate(req, false);
  const keys = userMixinsOf(req, n, 'deletes').map((m) => m.term);
  await core.resources.removeTagsEverywhere(keys, TAGGED_INVENTORY_KINDS, callerOf(req, res));
  await core.network.removeTagsEverywhere(keys, callerOf(req, res));
  send(res, 200, n, { lines: [] });
}

/** GFD.223 errors: the status code and a text/plain message. */
function errorHandler(options: OcciOptions): ErrorRequestHandler {
  return (e, _req, res, _next) => {
    const body = e as { type?: string; status?: number };
    // express.text's own errors (too large a body) carry their status.
    const err = body.type === 'entity.too.large' ? new OcciError(413, 'the request body is too large') : toOcciError(e);
    if (err.status >= 500 && err.status !== 501 && err.status !== 503) options.log.error({ err: e }, 'OCCI request failed');
    if (err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="skygate"');
    if ((err as { retryAfter?: number }).retryAfter !== undefined)
      res.setHeader('Retry-After', String((err as { retryAfter?: number }).retryAfter));
    res.status(err.status).type('text/plain').send(`${err.message}\n`);
  };
}
