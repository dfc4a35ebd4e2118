/**
 * What the OpenStack integration tests share: the credentials docker/openstack/openstack.sh wrote, adapters
 * running as the non-admin tenant, a few admin calls (quotas, token revocation), a bootable base image,
 * and stopping/starting one OpenStack service for fault tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCloudAdapter, type OpenStackCloudAdapter } from '../../../adapters/openstack/index.js';
import type { ProviderConfig } from '../../../src/core/registry.js';

const run = promisify(execFile);
export const SCRIPT = 'docker/openstack/openstack.sh';
const ENV_DIR = process.env.SKYGATE_OPENSTACK_ENV_DIR ?? path.join('.tmp', 'openstack');

export const quietLog = { info() {}, warn() {}, error() {} };

/** KEY=value lines of one credentials file; fails with how to make it when it is missing. */
export function readEnv(name: 'tenant' | 'admin'): Record<string, string> {
  const file = path.join(ENV_DIR, `${name}.env`);
  assert.ok(existsSync(file), `${file} is missing: start the local OpenStack with \`bash ${SCRIPT} up\` first`);
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The adapter settings of the tenant (a non-admin project member), plus `extra`. */
export function tenantSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const env = readEnv('tenant');
  return {
    authUrl: env.OS_AUTH_URL,
    region: env.OS_REGION_NAME,
    username: env.OS_USERNAME,
    password: env.OS_PASSWORD,
    projectName: env.OS_PROJECT_NAME,
    userDomainName: env.OS_USER_DOMAIN_NAME,
    projectDomainName: env.OS_PROJECT_DOMAIN_NAME,
    ...extra,
  };
}

export async function tenantAdapter(extra: Record<string, unknown> = {}, providerId = 'os-test'): Promise<OpenStackCloudAdapter> {
  return createCloudAdapter({ providerId, settings: tenantSettings(extra), dataDir: tmpdir(), log: quietLog });
}

export const openstackProvider = (id: string, extra: Record<string, unknown> = {}): ProviderConfig => ({
  id,
  type: 'openstack',
  displayName: 'Local OpenStack (tests)',
  region: 'RegionOne',
  settings: tenantSettings(extra),
});

/** A token for `who`, straight from Keystone (what the tests' own admin and tenant calls use). */
export async function issueToken(who: 'tenant' | 'admin'): Promise<{ token: string; projectId: string; userId: string }> {
  const env = readEnv(who);
  const res = await fetch(`${env.OS_AUTH_URL}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: env.OS_USERNAME, domain: { name: env.OS_USER_DOMAIN_NAME }, password: env.OS_PASSWORD } },
        },
        scope: { project: { name: env.OS_PROJECT_NAME, domain: { name: env.OS_PROJECT_DOMAIN_NAME } } },
      },
    }),
  });
  if (res.status !== 201) assert.fail(`keystone token for ${who}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: { project: { id: string }; user: { id: string } } };
  return { token: res.headers.get('x-subject-token') ?? '', projectId: body.token.project.id, userId: body.token.user.id };
}

/** A JSON call to a local OpenStack API as `who`; answers status and parsed body. */
export async function call(
  who: 'tenant' | 'admin',
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const { token } = await issueToken(who);
  const res = await fetch(url, {
    method,
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

export const NOVA = 'http://127.0.0.1:8774/v2.1';
export const CINDER = 'http://127.0.0.1:8776/v3';
export const KEYSTONE = 'http://127.0.0.1:5000/v3';

/** Revokes a token at Keystone: afterwards every service answers it with 401, as for an expired one. */
export async function revokeToken(token: string): Promise<void> {
  const { token: admin } = await issueToken('admin');
  const res = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': admin, 'X-Subject-Token': token },
  });
  assert.equal(res.status, 204, `revoking a token: ${res.status}`);
}

/**
 * Lowers one of the tenant's nova or cinder quotas to what is in use now (OpenStack refuses a limit
 * below usage), so the next create is over the limit; answers a function that restores the old limit.
 */
export async function limitToUsage(service: 'nova' | 'cinder', key: string): Promise<() => Promise<void>> {
  const { projectId } = await issueToken('tenant');
  const { projectId: adminProject } = await issueToken('admin');
  const url = service === 'nova' ? `${NOVA}/os-quota-sets/${projectId}` : `${CINDER}/${adminProject}/os-quota-sets/${projectId}`;
  const detail = await call('admin', 'GET', service === 'nova' ? `${url}/detail` : `${url}?usage=true`);
  const entry = (detail.body as { quota_set: Record<string, { in_use: number; limit: number; reserved?: number }> }).quota_set[
    key
  ];
  assert.ok(entry, `${service} has a ${key} quota`);
  const put = async (limit: number) => {
    const res = await call('admin', 'PUT', url, { quota_set: { [key]: limit } });
    assert.equal(res.status, 200, `setting ${service} quota ${key}=${limit}: ${JSON.stringify(res.body)}`);
  };
  await put(entry.in_use + (entry.reserved ?? 0));
  return () => put(entry.limit);
}

/** Stops one service of the local OpenStack (fault tests); `startService` brings it back and waits for its port. */
export async function stopService(name: string): Promise<void> {
  await run('bash', [SCRIPT, 'service-stop', name], { timeout: 60_000 });
}

export async function startService(name: string): Promise<void> {
  await run('bash', [SCRIPT, 'service-start', name], { timeout: 180_000 });
}

/** A small qcow2 of random data, made by qemu-img: what the tests boot servers from. */
export async function makeQcow2(dir: string, sizeMiB: number): Promise<{ file: string; sha256: string; bytes: number }> {
  const raw = path.join(dir, `random-${sizeMiB}m.raw`);
  const file = path.join(dir, `random-${sizeMiB}m.qcow2`);
  // written in 16 MiB slices so a 1 GiB disk never sits in memory
  const slice = 16 * 1024 * 1024;
  await writeFile(raw, '');
  for (let done = 0; done < sizeMiB * 1024 * 1024; done += slice) {
    await writeFile(raw, randomBytes(Math.min(slice, sizeMiB * 1024 * 1024 - done)), { flag: 'a' });
  }
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, file], { timeout: 300_000 });
  await rm(raw);
  return { file, sha256: await sha256File(file), bytes: (await stat(file)).size };
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The suite's bootable image: uploaded once, then found again by its client token on every later run. */
export async function baseImage(adapter: OpenStackCloudAdapter): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skygate-os-base-'));
  try {
    const disk = await makeQcow2(dir, 4);
    const image = await adapter.uploadImage(
      { name: 'skygate-it-base', diskFormat: 'qcow2', clientToken: 'skygate-it-base-image-v1', tags: { suite: 'openstack-it' } },
      createReadStream(disk.file),
    );
    assert.equal(image.state, 'available', `base image ${image.nativeId} is ${image.state}`);
    return image.nativeId;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const TINY_FLAVOR = '1';
