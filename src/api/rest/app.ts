/** The REST front: parses and validates against api-spec/openapi.yaml, authenticates, and calls the core. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { Histogram, register } from 'prom-client';
import { SkygateError } from '../../core/index.js';
import type { CoreServices } from '../../core/services/index.js';
import { createEc2Router } from '../ec2/index.js';
import { matchOperation, openApiDocument, validateRequest } from './openapi-validator.js';
import { problemHandler } from './problem.js';
import { accessKeyRoutes } from './routes/access-key-routes.js';
import { inventoryRoutes } from './routes/inventory-routes.js';
import { mutationRoutes } from './routes/mutation-routes.js';
import { operationRoutes } from './routes/operation-routes.js';
import { portabilityRoutes } from './routes/portability-routes.js';
import { providerRoutes } from './routes/provider-routes.js';
import { reachRoutes } from './routes/reach-routes.js';
import { tokenRoutes } from './routes/token-routes.js';

export interface RestOptions {
  bodyLimitBytes: number;
  log: {
    info(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
    debug(obj: object, msg?: string): void;
  };
}

const httpSeconds = new Histogram({
  name: 'skygate_http_request_seconds',
  help: 'REST requests by method, route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
});

export function createRestApp(core: CoreServices, options: RestOptions): express.Express {
  openApiDocument(); // parse the spec at start-up, not on the first request
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const end = httpSeconds.startTimer({ method: req.method });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
      options.log.debug(
        { method: req.method, url: req.originalUrl, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  // Ready means the store answers and adapters are loaded; a cloud being down does not make the
  // gateway unready, since it keeps serving that cloud's last known inventory.
  app.get('/readyz', async (_req, res) => {
    const store = await core.events.since(Number.MAX_SAFE_INTEGER, 1).then(
      () => ({ status: 'ok' as const }),
      (e: unknown) => ({ status: 'failing' as const, detail: e instanceof Error ? e.message : String(e) }),
    );
    const count = core.providers.ids().length;
    const providers =
      count > 0
        ? { status: 'ok' as const, detail: `${count} providers loaded` }
        : { status: 'failing' as const, detail: 'no providers' };
    const ok = store.status === 'ok' && providers.status === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { store, providers } });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });

  const v1 = express.Router();
  v1.use(express.json({ limit: options.bodyLimitBytes }));
  v1.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      const path = `/v1${req.path}`;
      const principal = await core.auth.authenticate(req.get('authorization'));
      // The spec says which role each endpoint needs (x-required-role): one source of truth.
      const requiredRole = matchOperation(req.method, path)?.requiredRole;
      if (requiredRole) core.auth.require(principal, requiredRole);
      res.locals.principal = principal;
      res.locals.validated = validateRequest({
        method: req.method,
        path,
        query: req.query as Record<string, unknown>,
        headers: req.headers,
        body: req.body,
      });
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
  app.use('/v1', v1);
  // The EC2 Query API: its own body parser and SigV4 auth, so /v1 never sees form bodies and vice versa.
  app.use('/ec2', createEc2Router(core, { bodyLimitBytes: options.bodyLimitBytes, log: options.log }));

  app.use((req, _res, next) => next(new SkygateError('not_found', `no route ${req.method} ${req.path}`, { field: 'path' })));
  app.use(problemHandler(options.log));
  return app;
}
