/** The open endpoints at the server root: liveness, readiness and Prometheus metrics (no token). */
import express from 'express';
import { register } from 'prom-client';
import type { ProviderRegistry } from '../core/registry.js';
import type { Store } from '../core/store-port.js';

interface Check {
  status: 'ok' | 'failing';
  detail?: string;
}

export function probesRouter(deps: { store: Store; registry: ProviderRegistry }): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  // Ready means the store answers and adapters are loaded; a cloud being down does not make the
  // gateway unready, since it keeps serving that cloud's last known inventory.
  router.get('/readyz', async (_req, res) => {
    const store: Check = await deps.store.eventsSince(Number.MAX_SAFE_INTEGER, 1).then(
      () => ({ status: 'ok' }),
      (e: unknown) => ({ status: 'failing', detail: e instanceof Error ? e.message : String(e) }),
    );
    const count = deps.registry.ids().length;
    const providers: Check =
      count > 0 ? { status: 'ok', detail: `${count} providers loaded` } : { status: 'failing', detail: 'no providers' };
    const ok = store.status === 'ok' && providers.status === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { store, providers } });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
  return router;
}
