/** Starts a real gateway in-process (sim clouds, temp data dir, port 0) and a spec-checking client for it. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import request from 'supertest';
import { validateResponse } from '../../src/api/rest/openapi-validator.js';
import type { Operation } from '../../src/core/model.js';
import type { ProviderConfig } from '../../src/core/registry.js';
import type { HaConfig } from '../../src/ha/ha-config.js';
import type { InventoryOptions } from '../../src/core/services/inventory.js';
import { loadConfig } from '../../src/server/config.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  dataDir: string;
  /** Issues a request with the admin token; every response is checked against the OpenAPI spec. */
  api(
    method: 'get' | 'post' | 'put' | 'patch' | 'delete',
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<request.Response>;
  waitOperation(id: string, timeoutMs?: number): Promise<Operation>;
  close(): Promise<void>;
}

export const simProviders = (latencyMs: number, extra: Record<string, unknown> = {}): ProviderConfig[] =>
  ['sim-east', 'sim-west'].map((id) => ({ id, type: 'sim', settings: { latencyMs, ...extra }, loadBalancer: {} }));

/** Fails with the spec's complaint when a response drifts from api-spec/openapi.yaml. */
export function assertMatchesSpec(method: string, url: string, res: request.Response): void {
  const problems = validateResponse(method.toUpperCase(), url.split('?')[0] ?? url, res.status, res.type, res.body);
  assert.deepEqual(problems, [], `${method.toUpperCase()} ${url} -> ${res.status} does not match the spec`);
}

export async function startTestGateway(
  opts: {
    providers?: ProviderConfig[];
    dataDir?: string;
    env?: Record<string, string>;
    /** Inventory cache settings (a short max age makes background refreshes race with writes). */
    inventory?: Partial<InventoryOptions>;
    /** HA timing (short intervals for tests). */
    ha?: Partial<HaConfig>;
  } = {},
): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'skygate-test-')));
  const config = {
    // `env` adds SKYGATE_* settings (an upload quota, a URL allowlist...) as an operator would set them.
    ...loadConfig({ SKYGATE_DATA_DIR: dataDir, SKYGATE_ADMIN_TOKEN: ADMIN_TOKEN, SKYGATE_PORT: '1', ...opts.env }),
    port: 0,
    providers: opts.providers ?? simProviders(20),
  };
  config.inventory = { ...config.inventory, ...opts.inventory };
  if (opts.ha !== undefined) config.ha = { ...config.ha!, ...opts.ha };
  const gateway = await createGateway(config, pino({ level: 'silent' }));
  const { url } = await gateway.listen();
  const api: TestGateway['api'] = async (method, p, body, token = ADMIN_TOKEN) => {
    let req = request(url)[method](p).set('Authorization', `Bearer ${token}`);
    if (body !== undefined) req = req.send(body as object);
    const res = await req;
    assertMatchesSpec(method, p, res);
    return res;
  };
  return {
    gateway,
    url,
    dataDir,
    api,
    async waitOperation(id, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await api('get', `/v1/operations/${id}`);
        assert.equal(res.status, 200);
        const op = res.body as Operation;
        if (op.status === 'succeeded' || op.status === 'failed') return op;
        if (Date.now() > deadline) assert.fail(`operation ${id} still ${op.status} after ${timeoutMs} ms`);
        await sleep(25);
      }
    },
    async close() {
      await gateway.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
