/** The REST front: parses and validates against api-spec/openapi.yaml, authenticates, and calls the core. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { Histogram, register } from 'prom-client';
import { SkygateError } from '../../core/errors.js';
import type { CoreServices } from '../../core/services/index.js';
import { validateRequest } from './openapi-validator.js';
import { problemHandler } from './problem.js';
import { inventoryRoutes } from './routes/inventory-routes.js';
import { mutationRoutes } from './routes/mutation-routes.js';
import { operationRoutes } from './routes/operation-routes.js';
import { providerRoutes } from './routes/provider-routes.js';
import { tokenRoutes } from './routes/token-routes.js';

export interface RestOptions {
  bodyLimitBytes: number;
  log: {
    info(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
    debug(obj: object, msg?: string): void;
  };
  /** Extra readiness checks beyond the store (answer a problem message, or undefined when fine). */
  ready?: () => Promise<Record<string, string>>;
}

const httpSeconds = new Histogram({
  name: 'skygate_http_request_seconds',
  help: 'REST requests by method, route and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
});

export function createRestApp(core: CoreServices, options: RestOptions): express.Express {
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
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await core.store.eventsSince(Number.MAX_SAFE_INTEGER, 1);
      checks.store = 'ok';
    } catch (e) {
      checks.store = e instanceof Error ? e.message : String(e);
    }
    Object.assign(checks, (await options.ready?.()) ?? {});
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not-ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });

  const v1 = express.Router();
  v1.use(express.json({ limit: options.bodyLimitBytes }));
  v1.use(async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.principal = await core.auth.authenticate(req.get('authorization'));
      res.locals.validated = validateRequest({
        method: req.method,
        path: `/v1${req.path}`,
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
  app.use('/v1', v1);

  app.use((req, _res, next) => next(new SkygateError('not_found', `no route ${req.method} ${req.path}`, { field: 'path' })));
  app.use(problemHandler(options.log));
  return app;
}
