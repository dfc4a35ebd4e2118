/** Generates SSH key pairs (EC2's CreateKeyPair): the OpenSSH public key line and a private key that `ssh -i` loads. */
import { type KeyObject, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

export type GeneratedKeyType = 'rsa' | 'ed25519';

export interface GeneratedKey {
  /** `ssh-rsa AAAA…` or `ssh-ed25519 AAAA…`, without a comment. */
  publicKey: string;
  /** RSA as PKCS#1 PEM, ed25519 in OpenSSH's own format (ssh reads no other ed25519 format everywhere). */
  privateKey: string;
}

const generate = promisify(generateKeyPair) as (
  type: 'rsa' | 'ed25519',
  options?: object,
) => Promise<{
  publicKey: KeyObject;
  privateKey: KeyObject;
}>;

/** The SSH wire format's string: a uint32 length, then the bytes (RFC 4251 §5). */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An mpint: big-endian, with a zero byte in front when the top bit is set, so it stays positive. */
const mpint = (b: Buffer) => sshString((b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);

const fromJwk = (value: unknown) => Buffer.from(String(value), 'base64url');

/** OpenSSH's unencrypted private key container, `openssh-key-v1` (PROTOCOL.key in the OpenSSH sources). */
function opensshPrivateKey(publicBlob: Buffer, keyType: string, privateFields: Buffer[]): string {
  const check = randomBytes(4);
  const parts = [check, check, sshString(keyType), ...privateFields, sshString('')];
  // The private section is padded with 1, 2, 3… to the cipher's block size (8 for "none").
  const unpadded = Buffer.concat(parts).length;
  const padding = Buffer.from(Array.from({ length: (8 - (unpadded % 8)) % 8 }, (_, i) => i + 1));
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(''), // kdf options
    Buffer.from([0, 0, 0, 1]), // one key
    sshString(publicBlob),
    sshString(Buffer.concat([...parts, padding])),
  ]);
  const body =
    blob
      .toString('base64')
      .match(/.{1,70}/g)
      ?.join('\n') ?? '';
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** A new key pair of `keyType`; RSA keys have 2048 bits, as EC2 makes them. */
export async function generateSshKey(keyType: GeneratedKeyType): Promise<GeneratedKey> {
  if (keyType === 'rsa') {
    const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    const jwk = publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([sshString('ssh-rsa'), mpint(fromJwk(jwk.e)), mpint(fromJwk(jwk.n))]);
    return {
      publicKey: `ssh-rsa ${blob.toString('base64')}`,
      privateKey: String(privateKey.export({ type: 'pkcs1', format: 'pem' })),
    };
  }
  const { privateKey } = await generate('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const pub = fromJwk(jwk.x);
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  // OpenSSH keeps the ed25519 secret as the 32-byte seed followed by the public key.
  const secret = Buffer.concat([fromJwk(jwk.d), pub]);
  return {
    publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
    privateKey: opensshPrivateKey(blob, 'ssh-ed25519', [sshString(pub), sshString(secret)]),
  };
}
