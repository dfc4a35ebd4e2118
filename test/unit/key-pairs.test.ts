/** Key pairs: OpenSSH public keys made by ssh-keygen are accepted with the fingerprints EC2 shows; broken ones refused. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { SkygateError } from '../../src/core/errors.js';
import { fingerprintOf, parsePublicKey } from '../../src/core/services/key-pairs.js';

const run = promisify(execFile);
let dir: string;
let made = 0;

/** A fresh key from the real ssh-keygen, and the fingerprint ssh-keygen itself reports for it. */
async function sshKey(type: string, hash: 'md5' | 'sha256', bits?: number): Promise<{ line: string; fingerprint: string }> {
  const file = path.join(dir, `key-${made++}`);
  await run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test@skygate', '-f', file]);
  const { stdout } = await run('ssh-keygen', ['-l', '-E', hash, '-f', `${file}.pub`]);
  const fingerprint = (stdout.split(' ')[1] ?? '').replace(/^(MD5|SHA256):/, '');
  return { line: await readFile(`${file}.pub`, 'utf8'), fingerprint };
}

before(async () => {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).some((d) => existsSync(path.join(d, 'ssh-keygen')));
  assert.ok(onPath, "ssh-keygen is missing: install Debian's openssh-client (scripts/test.sh does)");
  dir = await mkdtemp(path.join(tmpdir(), 'skygate-ssh-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parsePublicKey and fingerprintOf', () => {
  it('agrees with ssh-keygen: RSA as colon-separated MD5, ed25519 and ECDSA as base64 SHA-256', async () => {
    const rsa = await sshKey('rsa', 'md5', 2048);
    const parsedRsa = parsePublicKey(rsa.line);
    assert.equal(parsedRsa.keyType, 'rsa');
    assert.equal(fingerprintOf('rsa', parsedRsa.blob), rsa.fingerprint);
    assert.ok(!parsedRsa.text.includes('test@skygate'), 'the comment is not kept');
    for (const type of ['ed25519', 'ecdsa']) {
      const key = await sshKey(type, 'sha256');
      const parsed = parsePublicKey(key.line);
      assert.equal(parsed.keyType, type);
      assert.equal(fingerprintOf(parsed.keyType, parsed.blob).replace(/=+$/, ''), key.fingerprint);
    }
  });

  it('refuses what is not an OpenSSH public key, naming the field', async () => {
    const ed = await sshKey('ed25519', 'sha256');
    const [label, data] = ed.line.split(' ') as [string, string];
    const refused = (line: string) =>
      assert.throws(
        () => parsePublicKey(line),
        (e: SkygateError) => e.code === 'invalid_input' && e.field === 'publicKeyMaterial',
      );
    refused('');
    refused('ssh-dss AAAAB3NzaC1kc3MAAACBAP');
    refused(`${label} not*base64`);
    refused(`${label} ${data.slice(0, 20)}`);
    refused(`ssh-rsa ${data}`);
    refused('-----BEGIN PUBLIC KEY-----');
    const small = await sshKey('rsa', 'md5', 1024);
    assert.equal(parsePublicKey(small.line).keyType, 'rsa', '1024-bit RSA is the smallest EC2 imports');
  });
});
