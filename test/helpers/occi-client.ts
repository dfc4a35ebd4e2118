/** A plain-fetch OCCI client for the tests: one request in any rendering, and what the gateway holds, counted through REST. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN, type TestGateway } from './gateway.js';

export const INFRA = 'http://schemas.ogf.org/occi/infrastructure#';
export const ACTION = 'http://schemas.ogf.org/occi/infrastructure/compute/action#';
export const SKYGATE = 'http://schemas.skygate.dev/occi/';

export interface OcciAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface OcciCall {
  accept?: string;
  contentType?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Sends no token when null; an API token otherwise (the admin's by default). */
  token?: string | null;
}

export function occiClient(gw: TestGateway) {
  return async (method: string, path: string, call: OcciCall = {}): Promise<OcciAnswer> => {
    const headers: Record<string, string> = { ...call.headers };
    const token = call.token === undefined ? ADMIN_TOKEN : call.token;
    if (token !== null && !('X-Auth-Token' in headers)) headers.Authorization = `Bearer ${token}`;
    if (call.accept !== undefined) headers.Accept = call.accept;
    if (call.contentType !== undefined) headers['Content-Type'] = call.contentType;
    const res = await fetch(gw.url + path, { method, headers, body: call.body });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
}

/** The text/plain body of a compute create from an image (os_tpl) of `provider`. */
export function computeCreateText(provider: string, image: string, extra: string[] = []): string {
  return [
    `Category: compute;scheme="${INFRA}";class="kind"`,
    `Category: ${image};scheme="${SKYGATE}${provider}/os_tpl#";class="mixin"`,
    ...extra,
  ].join('\n');
}

/** How many instances, volumes and operations the gateway holds (through REST), to prove nothing was created. */
export async function holdings(gw: TestGateway): Promise<{ instances: number; volumes: number; operations: number }> {
  const count = async (p: string) => {
    const res = await gw.api('get', p);
    assert.equal(res.status, 200);
    return Array.isArray(res.body) ? res.body.length : (res.body as { items: unknown[] }).items.length;
  };
  return {
    instances: await count('/v1/instances?limit=1000&fresh=true'),
    volumes: await count('/v1/volumes?limit=1000&fresh=true'),
    operations: await count('/v1/operations?limit=1000'),
  };
}

/** Polls a compute (JSON rendering) until its occi.compute.state.message is `state`. */
export async function waitComputeState(
  call: ReturnType<typeof occiClient>,
  path: string,
  state: string,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', path, { accept: 'application/occi+json' });
    assert.equal(res.status, 200, res.text);
    const doc = JSON.parse(res.text) as { attributes: Record<string, unknown> };
    if (doc.attributes['occi.compute.state.message'] === state) return doc;
    if (Date.now() > deadline) assert.fail(`${path} still ${String(doc.attributes['occi.compute.state.message'])}, not ${state}`);
    await sleep(50);
  }
}
