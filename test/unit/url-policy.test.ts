/** Where URL imports may fetch from (http(s), allowlisted hosts on allowed ports, never link-local or the gateway itself), and what their errors show. */
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { SkygateError } from '../../src/core/errors.js';
import { loadPortabilityConfig } from '../../src/portability/portability-config.js';
import { fetchPackage } from '../../src/portability/url-fetch.js';
import { UrlPolicy } from '../../src/portability/url-policy.js';

const GATEWAY_PORT = 8080;
const HOSTS = ['127.0.0.1', 'images.example.com', '*.mirror.example.org', '169.254.169.254', '[::1]', 'localhost'];
// Ports beyond the default 80/443, as an operator allows them, so the gateway's own port can be tried.
const policy = new UrlPolicy(HOSTS, () => GATEWAY_PORT, [80, 443, 9000, GATEWAY_PORT, GATEWAY_PORT + 1]);

async function refused(url: string, reason: RegExp, p = policy): Promise<void> {
  await assert.rejects(p.check(url, 'body.url'), (e: unknown) => {
    assert.ok(e instanceof SkygateError);
    assert.equal(e.code, 'invalid_input');
    assert.equal(e.field, 'body.url');
    assert.match(e.message, reason);
    return true;
  });
}

describe('UrlPolicy', () => {
  it('accepts http and https URLs of allowlisted hosts', async () => {
    assert.equal((await policy.check('http://127.0.0.1:9000/a.ova', 'body.url')).port, '9000');
    assert.equal(policy.checkUrl('https://images.example.com/x.ova', 'body.url').hostname, 'images.example.com');
    assert.equal(policy.checkUrl('https://eu.mirror.example.org/x.ova', 'body.url').hostname, 'eu.mirror.example.org');
  });

  it('refuses other schemes, file:// first of all', async () => {
    await refused('file:///etc/passwd', /scheme 'file' is not allowed/);
    await refused('ftp://images.example.com/a.ova', /scheme 'ftp'/);
    await refused('not a url', /is not a URL/);
  });

  it('refuses hosts off the allowlist, and everything when the allowlist is empty', async () => {
    await refused('http://evil.example.net/a.ova', /'evil\.example\.net' is not on the allowlist/);
    await refused('http://mirror.example.org/a.ova', /not on the allowlist/);
    await refused('http://127.0.0.1:9000/a.ova', /no host is on the allowlist/, new UrlPolicy([], () => GATEWAY_PORT));
  });

  it('refuses link-local addresses even when allowlisted (cloud metadata services live there)', async () => {
    await refused('http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a linkLocal address/);
    assert.throws(() => policy.checkAddress('::ffff:169.254.169.254', new URL('http://localhost/'), 'body.url'), /linkLocal/);
    assert.throws(() => policy.checkAddress('fe80::1', new URL('http://localhost/'), 'body.url'), /linkLocal/);
    assert.throws(() => policy.checkAddress('0.0.0.0', new URL('http://localhost/'), 'body.url'), /unspecified/);
  });

  it('refuses the gateway itself, by loopback name or address, but not another port on loopback', async () => {
    await refused(`http://127.0.0.1:${GATEWAY_PORT}/v1/images`, /is the gateway itself/);
    await refused(`http://localhost:${GATEWAY_PORT}/v1/images`, /is the gateway itself/);
    await refused(`http://[::1]:${GATEWAY_PORT}/`, /is the gateway itself/);
    await policy.check(`http://localhost:${GATEWAY_PORT + 1}/a.ova`, 'body.url');
  });

  it('refuses URLs carrying credentials', async () => {
    await refused('http://user:secret@images.example.com/a.ova', /must not carry credentials/);
  });

  it('reaches an allowlisted host only on the allowed ports, 80 and 443 by default', async () => {
    const defaults = new UrlPolicy(HOSTS, () => GATEWAY_PORT);
    assert.equal(defaults.checkUrl('http://images.example.com/a.ova', 'body.url').port, '');
    assert.equal(defaults.checkUrl('https://images.example.com:443/a.ova', 'body.url').port, '');
    assert.equal(defaults.checkUrl('http://images.example.com:443/a.ova', 'body.url').port, '443');
    for (const url of ['http://images.example.com:8080/a.ova', 'https://images.example.com:6443/', 'http://127.0.0.1:22/']) {
      await refused(url, /port \d+ is not allowed; allowed ports: 80, 443 \(portability\.urlPorts\)/, defaults);
    }
    const custom = new UrlPolicy(HOSTS, () => GATEWAY_PORT, [8443]);
    assert.equal(custom.checkUrl('https://images.example.com:8443/a.ova', 'body.url').port, '8443');
    await refused('https://images.example.com/a.ova', /port 443 is not allowed; allowed ports: 8443/, custom);
  });

  it('reads the allowed ports from the configuration, refusing what is not a port', () => {
    assert.deepEqual(loadPortabilityConfig({}).urlPorts, [80, 443]);
    assert.deepEqual(loadPortabilityConfig({ SKYGATE_URL_PORTS: '443, 8443' }).urlPorts, [443, 8443]);
    assert.deepEqual(loadPortabilityConfig({}, { urlPorts: [8080] }).urlPorts, [8080]);
    for (const bad of ['0', '65536', 'http', '80,']) {
      assert.throws(() => loadPortabilityConfig({ SKYGATE_URL_PORTS: bad }), { field: 'portability.urlPorts' });
    }
  });
});

describe('fetchPackage: what the remote side says stays out of the error', () => {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  });
  async function serve(onConnection: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer((socket) => {
      sockets.add(socket);
      onConnection(socket);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }
  const INTERNAL = ['internal-db-7', 'db.internal', '10.1.2.3', 'Secret', 'OpenSSH', 'SSH-2.0'];

  async function fetchRefused(url: string, reason: RegExp, ports: number[]): Promise<string> {
    const p = new UrlPolicy(['127.0.0.1', 'localhost'], () => undefined, ports);
    let message = '';
    await assert.rejects(fetchPackage(url, p, 'body.url', 1024), (e: unknown) => {
      assert.ok(e instanceof SkygateError);
      assert.equal(e.field, 'body.url');
      message = e.message;
      assert.match(message, reason);
      for (const word of INTERNAL) assert.ok(!message.includes(word), `'${word}' is not echoed: ${message}`);
      return true;
    });
    return message;
  }

  it('an internal service that does not speak HTTP: "not HTTP", not its banner', async () => {
    const port = await serve((socket) => socket.end('SSH-2.0-OpenSSH_9.2p1 internal-db-7 10.1.2.3\r\n'));
    await fetchRefused(`http://127.0.0.1:${port}/a.ova`, /failed: the answer is not HTTP/, [port]);
  });

  it('an error status: its code, not its reason phrase nor its body', async () => {
    const port = await serve((socket) =>
      socket.end('HTTP/1.1 500 Secret internal-db-7 down\r\nContent-Length: 20\r\n\r\nat db.internal:5432\n'),
    );
    await fetchRefused(`http://127.0.0.1:${port}/a.ova`, /answered HTTP 500, not 200$/, [port]);
  });

  it('a refused connection: not the address the name resolved to', async () => {
    const port = await serve(() => {});
    const server = servers.pop() as net.Server;
    await new Promise((r) => server.close(r));
    const message = await fetchRefused(`http://localhost:${port}/a.ova`, /failed: the connection was refused$/, [port]);
    assert.ok(!message.includes(`127.0.0.1:${port}`) && !message.includes(`::1`), message);
  });

  it('a pre-signed URL: its signature stays out of the message', async () => {
    const port = await serve((socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    const message = await fetchRefused(
      `http://127.0.0.1:${port}/a.ova?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef&part=1`,
      /answered HTTP 403/,
      [port],
    );
    assert.ok(!message.includes('deadbeef') && !message.includes('AKIAEXAMPLE'), message);
    assert.match(message, /X-Amz-Signature=REDACTED&part=1/);
  });
});
