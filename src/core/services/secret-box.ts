/**
 * Secrets at rest: AES-256-GCM (node:crypto) under one gateway key, taken from SKYGATE_SECRET_KEY or
 * generated once into `<dataDir>/secret.key` (mode 0600). Replicas sharing a database must share the key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkygateError, invalid } from '../errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte key written as 64 hex digits or as base64. */
function parseKey(text: string, field: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw invalid(field, 'must be a 32-byte key, as 64 hex digits or base64 (openssl rand -base64 32)');
  return key;
}

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The configured key, else the one in `<dataDir>/secret.key`, generated on first use. */
  static async open(dataDir: string, configured?: string): Promise<SecretBox> {
    if (configured !== undefined) return new SecretBox(parseKey(configured, 'SKYGATE_SECRET_KEY'));
    const file = path.join(dataDir, 'secret.key');
    await mkdir(dataDir, { recursive: true });
    try {
      // `wx`: of two processes starting on one data dir, only the first writes; the other reads its key.
      await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return new SecretBox(parseKey(await readFile(file, 'utf8'), file));
  }

  /** base64 of iv | auth tag | ciphertext. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new SkygateError(
        'internal',
        'a stored secret does not decrypt: the gateway key (SKYGATE_SECRET_KEY or secret.key) is not the one it was sealed with',
        { cause: e },
      );
    }
  }
}
