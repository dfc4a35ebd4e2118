/**
 * The gateway's public face: one mount per front (the EC2 Query API at /ec2, REST at /v1, OCCI at the root), then
 * the probes and metrics at the root. A further front is one more mount.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Request, type Response } from 'express';
import { SkygateError } from '../core/index.js';
import type { ProviderRegistry } from '../core/registry.js';
import type { CoreServices } from '../core/services/index.js';
import type { Store } from '../core/store-port.js';
import { Ec2Error } from '../api/ec2/ec2-errors.js';
import { createEc2Front, ec2RouteOf, isEc2Path, sendEc2Error } from '../api/ec2/index.js';
import { createOcciRouter } from '../api/occi/index.js';
import { createRestRouter, REST_MOUNT } from '../api/rest/app.js';
import { HttpProblem, problemHandler, sendProblem } from '../api/rest/problem.js';
import { type BodyTimeouts, bodyTimeouts, type TimeoutAnswer } from './body-timeouts.js';
import { probesRouter } from './probes.js';
import { type RequestLog, requestMetrics } from './request-metrics.js';

export interface HttpAppOptions {
  bodyLimitBytes: number;
  bodyTimeouts: BodyTimeouts;
  log: RequestLog & { error(obj: object, msg?: string): void };
}

/** What the probes read directly: only the composition root reaches the store and the registry. */
export interface ProbeTargets {
  store: Store;
  registry: ProviderRegistry;
}

// Mounted in express: the request and response are express's.
const restTimeout: TimeoutAnswer = (req, res, reason) =>
  sendProblem(
    req as Request,
    res as Response,
    new HttpProblem(408, 'Request timeout', 'invalid_input', `body: ${reason}`, { field: 'body' }),
  );
const ec2Timeout: TimeoutAnswer = (_req, res, reason) =>
  sendEc2Error(res, new Ec2Error('RequestTimeout', `The request body stopped arriving: ${reason}`, 408));

/**
 * The server's request listener: the EC2 front answers its mount directly (one endpoint needs no router, and
 * express costs on every request of a front that tools poll); everything else goes to the express app.
 */
export function createHttpApp(core: CoreServices, probes: ProbeTargets, options: HttpAppOptions): RequestListener {
  const timeRequest = requestMetrics(options.log);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    timeRequest(req, res, () => `${req.baseUrl}${(req.route?.path as string | undefined) ?? 'unmatched'}`);
    next();
  });
  // Body deadlines per front, each answering a body that stopped arriving in its own dialect.
  app.use(REST_MOUNT, bodyTimeouts(options.bodyTimeouts, restTimeout));
  app.use(REST_MOUNT, createRestRouter(core, options));
  // OGF OCCI 1.2 at the root (/-/, /compute/ ...): OCCI clients append the locations it renders to the base URL.
  app.use(createOcciRouter(core, options));
  // After the fronts, whose paths they do not share, so that API requests do not pass through them.
  app.use(probesRouter(probes));

  // Outside every front, an unknown path answers as the REST API's problem+json.
  app.use((req, _res, next) => next(new SkygateError('not_found', `no route ${req.method} ${req.path}`, { field: 'path' })));
  app.use(problemHandler(options.log));

  // The EC2 Query API: its own body parser and SigV4 auth, so /v1 never sees form bodies and vice versa.
  const ec2 = createEc2Front(core, options);
  const ec2Body = bodyTimeouts(options.bodyTimeouts, ec2Timeout);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!isEc2Path(req.url)) return app(req, res);
    timeRequest(req, res, () => ec2RouteOf(req.url));
    ec2Body(req, res, () => ec2(req, res));
  };
}
