/** The request log: paths only, with credential-like query values redacted, checked on the log a real gateway writes. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { redactUrl } from '../../src/core/url-redaction.js';
import { loadConfig } from '../../src/server/config.js';
import { createGateway, type Gateway } from '../../src/server/gateway.js';
import { ADMIN_TOKEN, simProviders } from '../helpers/gateway.js';

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
    done();
  },
});

let gateway: Gateway;
let url: string;
let dataDir: string;
before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-edge-log-'));
  const config = {
    ...loadConfig({ SKYGATE_DATA_DIR: dataDir, SKYGATE_ADMIN_TOKEN: ADMIN_TOKEN }),
    port: 0,
    providers: simProviders(0),
  };
  gateway = await createGateway(config, pino({ level: 'debug' }, sink));
  ({ url } = await gateway.listen());
});
after(async () => {
  await gateway.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('request log', () => {
  it('logs the path with credential-like query values redacted', async () => {
    const secrets = ['tok-SECRET-1', 'AKIDSECRET2', 'sig-SECRET-3', 'pw-SECRET-4', 'cred-SECRET-5'];
    const query =
      `access_token=${secrets[0]}&X-Amz-Credential=${secrets[4]}%2F20260101&limit=5` +
      `&X-Amz-Signature=${secrets[2]}&password=${secrets[3]}&apiKey=${secrets[1]}`;
    await fetch(`${url}/v1/instances?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await fetch(`${url}/ec2?Action=DescribeInstances&X-Amz-Signature=${secrets[2]}&X-Amz-Credential=${secrets[4]}`);
    const requests = lines.filter((l) => l.msg === 'request');
    const rest = requests.find((l) => String(l.url).startsWith('/v1/instances'));
    const ec2 = requests.find((l) => String(l.url).startsWith('/ec2'));
    assert.ok(rest && ec2, `both requests are logged: ${JSON.stringify(requests)}`);
    assert.match(String(rest.url), /limit=5/, 'harmless values stay readable');
    assert.match(String(rest.url), /access_token=REDACTED/);
    assert.match(String(ec2.url), /Action=DescribeInstances&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED/);
    const all = JSON.stringify(lines);
    for (const s of secrets) assert.ok(!all.includes(s), `${s} does not reach the log`);
    assert.ok(!all.includes(ADMIN_TOKEN), 'nor does the bearer token');
  });

  it('redacts full URLs too, user info included', () => {
    assert.equal(
      redactUrl('https://user:pw@images.example.com/a.ova?X-Amz-Signature=abc&part=1#frag'),
      'https://images.example.com/a.ova?X-Amz-Signature=REDACTED&part=1',
    );
    assert.equal(redactUrl('/v1/x'), '/v1/x');
    assert.equal(redactUrl('/v1/x?%74oken=abc'), '/v1/x?%74oken=REDACTED');
  });
});
