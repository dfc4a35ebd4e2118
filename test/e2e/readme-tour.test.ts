/** Runs the README's curl tour exactly as written, against a real gateway, with bash, curl and jq. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway();
});
after(async () => {
  await gw.close();
});

it('the README tour works as written', async () => {
  const readme = await readFile('README.md', 'utf8');
  const block = /<!-- tour:start -->\s*```bash\n([\s\S]*?)```\s*<!-- tour:end -->/.exec(readme)?.[1];
  assert.ok(block, 'README has a tour block');
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', block], {
    env: { ...process.env, SKYGATE: gw.url, TOKEN: ADMIN_TOKEN },
    timeout: 60_000,
  });
  const lines = stdout.trim().split('\n');
  assert.ok(
    lines.some((l) => l.includes('"id":"sim-east"') && l.includes('"health":"up"')),
    stdout,
  );
  assert.ok(lines.filter((l) => l.includes('"status":"succeeded"')).length >= 5, stdout);
  assert.ok(!stdout.includes('"status":"failed"'), stdout);
  assert.ok(
    lines.some((l) => l.includes('"name":"db-1"')),
    stdout,
  );
  assert.match(lines.find((l) => l.includes('"state":"terminated"')) ?? '', /sim-east:i-/);
});
