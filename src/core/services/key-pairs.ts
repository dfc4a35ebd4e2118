/**
 * SSH key pairs per provider (EC2's ImportKeyPair and CreateKeyPair): validated OpenSSH public keys with EC2-style
 * fingerprints. Every import, creation and deletion is audited with its caller, whichever front asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SkygateError, conflict, invalid } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Tags } from '../model.js';
import { checkKeyPairName } from '../name-policy.js';
import type { CallerContext } from '../operations/engine.js';
import type { ProviderRegistry } from '../registry.js';
import type { KeyPair, Store } from '../store-port.js';
import { type GeneratedKeyType, generateSshKey } from './ssh-key-generator.js';

const KEY_TYPES: Record<string, KeyPair['keyType']> = {
  'ssh-rsa': 'rsa',
  'ssh-ed25519': 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa',
  'ecdsa-sha2-nistp384': 'ecdsa',
  'ecdsa-sha2-nistp521': 'ecdsa',
};

/** Reads the SSH wire format's length-prefixed strings (RFC 4251 §5) out of a key blob. */
function sshStrings(blob: Buffer, field: string): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    if (at + 4 > blob.length) throw invalid(field, 'the key data is truncated');
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) throw invalid(field, 'the key data is truncated');
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`) and checks that its blob says what its label says. */
export function parsePublicKey(
  line: string,
  field = 'publicKeyMaterial',
): { keyType: KeyPair['keyType']; blob: Buffer; text: string } {
  const [label, data] = line.trim().split(/\s+/, 3);
  const keyType = label === undefined ? undefined : KEY_TYPES[label];
  if (keyType === undefined || data === undefined) {
    throw invalid(field, `must be an OpenSSH public key (${Object.keys(KEY_TYPES).join(', ')})`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalid(field, 'the key data is not base64');
  const blob = Buffer.from(data, 'base64');
  const parts = sshStrings(blob, field);
  if (parts[0]?.toString('latin1') !== label) throw invalid(field, `the key data is not a ${label} key`);
  if (keyType === 'ed25519' && parts[1]?.length !== 32) throw invalid(field, 'an ed25519 key is 32 bytes');
  if (keyType === 'rsa') {
    const modulus = parts[2];
    // The modulus is a positive mpint, so a leading zero byte may pad it.
    const bits = modulus === undefined ? 0 : (modulus.length - (modulus[0] === 0 ? 1 : 0)) * 8;
    if (parts.length !== 3 || bits < 1024) throw invalid(field, 'an RSA key must have a modulus of at least 1024 bits');
  }
  if (keyType === 'ecdsa' && parts.length !== 3) throw invalid(field, 'the ECDSA key data is malformed');
  return { keyType, blob, text: `${label} ${data}` };
}

/** EC2's fingerprints of imported keys: RSA as colon-separated MD5 (RFC 4716 §4), others as base64 SHA-256. */
export function fingerprintOf(keyType: KeyPair['keyType'], blob: Buffer): string {
  if (keyType === 'rsa') return (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
  return createHash('sha256').update(blob).digest('base64');
}

export class KeyPairService {
  constructor(
    private readonly store: Store,
    private readonly registry: ProviderRegistry,
    /** Where key pair changes are audited. */
    private readonly audit: Pick<EventBus, 'emit'>,
  ) {}

  async import(provider: string, name: string, publicKey: string, caller: CallerContext, tags: Tags = {}): Promise<KeyPair> {
    const keyPair = await this.insert(provider, name, publicKey, tags);
    await this.emit('key-pair.imported', keyPair, caller);
    return keyPair;
  }

  /** Checks and stores a public key; a name taken at the provider is a conflict. */
  private async insert(provider: string, name: string, publicKey: string, tags: Tags): Promise<KeyPair> {
    this.registry.cloud(provider, 'provider');
    checkKeyPairName(name, 'keyName');
    const parsed = parsePublicKey(publicKey);
    const keyPair: KeyPair = {
      id: `key-${randomBytes(9).toString('hex').slice(0, 17)}`,
      provider,
      name,
      keyType: parsed.keyType,
      fingerprint: fingerprintOf(parsed.keyType, parsed.blob),
      publicKey: parsed.text,
      tags,
      createdAt: new Date().toISOString(),
    };
    if (!(await this.store.insertKeyPair(keyPair))) {
      throw conflict(`key pair '${name}' already exists at provider '${provider}'`, 'keyName');
    }
    return keyPair;
  }

  /** Makes a new key pair and keeps its public half; the private key is answered this once and never stored. */
  async generate(
    provider: string,
    name: string,
    caller: CallerContext,
    keyType: GeneratedKeyType = 'rsa',
    tags: Tags = {},
  ): Promise<{ keyPair: KeyPair; privateKey: string }> {
    this.registry.cloud(provider, 'provider');
    // Checked before the (slow, for RSA) generation; the insert still settles a race between two creates.
    checkKeyPairName(name, 'keyName');
    if ((await this.store.listKeyPairs(provider)).some((k) => k.name === name)) {
      throw conflict(`key pair '${name}' already exists at provider '${provider}'`, 'keyName');
    }
    const { publicKey, privateKey } = await generateSshKey(keyType);
    const keyPair = await this.insert(provider, name, publicKey, tags);
    await this.emit('key-pair.created', keyPair, caller);
    return { keyPair, privateKey };
  }

  list(provider: string): Promise<KeyPair[]> {
    this.registry.cloud(provider, 'provider');
    return this.store.listKeyPairs(provider);
  }

  async get(provider: string, name: string, field = 'keyName'): Promise<KeyPair> {
    const found = (await this.list(provider)).find((k) => k.name === name);
    if (!found) throw new SkygateError('not_found', `key pair '${name}' does not exist at provider '${provider}'`, { field });
    return found;
  }

  /**
   * Answers whether there was one to delete; deleting a missing key pair is not an error (as on EC2), and not a
   * change: no event.
   */
  async delete(provider: string, name: string, caller: CallerContext): Promise<boolean> {
    const found = (await this.list(provider)).find((k) => k.name === name);
    if (!found || !(await this.store.deleteKeyPair(provider, name))) return false;
    await this.emit('key-pair.deleted', found, caller);
    return true;
  }

  /** The audit event of a key pair change: its public identity only (the private key is never kept anywhere). */
  private async emit(type: string, k: KeyPair, caller: CallerContext): Promise<void> {
    await this.audit.emit(type, k.id, { provider: k.provider, name: k.name, fingerprint: k.fingerprint, by: caller.principal });
  }
}
