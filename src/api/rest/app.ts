/** The REST front, mounted at /v1: parses and validates against api-spec/openapi.yaml, authenticates, and calls the core. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { SkygateError } from '../../core/index.js';
import type { CoreServices } from '../../core/services/index.js';
import { carriesBody } from '../http-body.js';
import { allowedMethods, matchOperation, openApiDocument, operationTakesBody, validateRequest } from './openapi-validator.js';
import { HttpProblem, problemHandler } from './problem.js';
import { accessKeyRoutes } from './routes/access-key-routes.js';
import { inventoryRoutes } from './routes/inventory-routes.js';
import { mutationRoutes } from './routes/mutation-routes.js';
import { operationRoutes } from './routes/operation-routes.js';
import { portabilityRoutes } from './routes/portability-routes.js';
import { protectionGroupRoutes } from './routes/protection-group-routes.js';
import { providerRoutes } from './routes/provider-routes.js';
import { reachRoutes } from './routes/reach-routes.js';
import { tokenRoutes } from './routes/token-routes.js';

export interface RestOptions {
  bodyLimitBytes: number;
  log: { error(obj: object, msg?: string): void };
}

/** The path the REST router is mounted at; the spec's paths include it. */
export const REST_MOUNT = '/v1';

/** A known path asked with a method it does not take: 405 with the methods it does take (RFC 9110). */
function refuseOtherMethod(method: string, path: string): void {
  const allowed = allowedMethods(path);
  if (allowed.length === 0) return;
  if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
  const allow = allowed.join(', ');
  throw new HttpProblem(405, 'Method not allowed', 'invalid_input', `${method} is not allowed on ${path}; use ${allow}`, {
    field: 'method',
    headers: { Allow: allow },
  });
}

/** The `/v1` router: mount it at REST_MOUNT. Errors inside it answer as problem+json. */
export function createRestRouter(core: CoreServices, options: RestOptions): express.Router {
  openApiDocument(); // parse the spec at start-up, not on the first request
  const v1 = express.Router();
  const parseJson = express.json({ limit: options.bodyLimitBytes });

  /** JSON bodies, parsed only when `admit` asks. */
  const parseBody = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => parseJson(req, res, (e?: unknown) => (e ? reject(e) : resolve())));

  // One step admits every request: the route table is scanned once, and the match serves the body
  // decision, the role check and validation.
  v1.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const path = `${REST_MOUNT}${req.path}`;
      const match = matchOperation(req.method, path);
      // JSON is parsed where the operation takes a body, and where a client sent one anyway, so that `{}`
      // stays accepted and anything else is refused by name; a plain GET never reaches the parser.
      if ((match && operationTakesBody(match.operationId)) || carriesBody(req)) await parseBody(req, res);
      // The client's address (the socket's: no proxy is trusted) is what failed attempts are throttled by.
      const principal = await core.auth.authenticate(req.get('authorization'), req.socket.remoteAddress ?? 'unknown');
      // The spec says which role each endpoint needs (x-required-role): one source of truth.
      if (match?.requiredRole) core.auth.require(principal, match.requiredRole);
      if (!match) refuseOtherMethod(req.method, path);
      res.locals.principal = principal;
      res.locals.validated = validateRequest(
        {
          method: req.method,
          path,
          query: req.query as Record<string, unknown>,
          headers: req.headers,
          body: req.body,
          bodySent: carriesBody(req),
        },
        match,
      );
      next();
    } catch (e) {
      next(e);
    }
  });
  inventoryRoutes(v1, core);
  mutationRoutes(v1, core);
  operationRoutes(v1, core);
  providerRoutes(v1, core);
  tokenRoutes(v1, core);
  portabilityRoutes(v1, core);
  accessKeyRoutes(v1, core);
  reachRoutes(v1, core);
  protectionGroupRoutes(v1, core);

  v1.use((req, _res, next) =>
    next(new SkygateError('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`, { field: 'path' })),
  );
  v1.use(problemHandler(options.log));
  return v1;
}
