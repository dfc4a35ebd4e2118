/**
 * Access key pairs for the EC2 front's SigV4 authentication. Each key belongs to an API token and acts
 * with at most its role; the secret is shown once and kept encrypted, since verifying SigV4 needs it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { SkygateError } from '../errors.js';
import type { Principal, Role } from '../model.js';
import { checkName } from '../name-policy.js';
import type { EventBus } from '../events.js';
import type { AccessKey, Store } from '../store-port.js';
import { TOKEN_NAME_MAX } from './auth.js';
import type { SecretBox } from './secret-box.js';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** AWS's access key alphabet (base32), so tools that check the shape accept ours. */
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** How long a verified key is trusted without asking the store again (a revocation elsewhere lags by this). */
const CACHE_MS = 5_000;

export interface IssuedAccessKey extends AccessKey {
  /** Shown once; never answered again. */
  secretAccessKey: string;
}

/** What a request signed with a key may do, and the secret to verify its signature with. */
export interface ResolvedAccessKey {
  key: AccessKey;
  secret: string;
  principal: Principal;
}

const newKeyId = () => `AKIA${Array.from({ length: 16 }, () => KEY_ALPHABET[randomInt(KEY_ALPHABET.length)]).join('')}`;
const newSecret = () => randomBytes(30).toString('base64');

export class AccessKeyService {
  private readonly resolved = new Map<string, { value: ResolvedAccessKey; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    /** Where key changes are audited, whichever front made them. */
    private readonly audit: Pick<EventBus, 'emit'>,
  ) {}

  /** Issues a key to the caller's token, with the caller's role unless a lower one is asked for. */
  async issue(owner: Principal, input: { name?: string; role?: Role }): Promise<IssuedAccessKey> {
    if (input.name !== undefined) checkName(input.name, 'body.name', TOKEN_NAME_MAX);
    const role = input.role ?? owner.role;
    if (RANK[role] > RANK[owner.role]) {
      throw new SkygateError('forbidden', `a ${owner.role} token cannot issue an access key with the ${role} role`, {
        field: 'body.role',
      });
    }
    const secretAccessKey = newSecret();
    const key: AccessKey = {
      id: newKeyId(),
      tokenId: owner.tokenId,
      name: input.name ?? owner.name,
      role,
      createdAt: new Date().toISOString(),
    };
    await this.store.insertAccessKey({ ...key, secret: this.box.seal(secretAccessKey) });
    await this.audit.emit('access-key.issued', key.id, { tokenId: key.tokenId, role: key.role, by: owner.tokenId });
    return { ...key, secretAccessKey };
  }

  /** An admin sees every key; anyone else the keys of their own token. */
  list(caller: Principal): Promise<AccessKey[]> {
    return this.store.listAccessKeys(caller.role === 'admin' ? undefined : caller.tokenId);
  }

  async revoke(caller: Principal, id: string): Promise<void> {
    const key = await this.store.getAccessKey(id);
    // Someone else's key is reported missing rather than forbidden: its existence is not the caller's business.
    if (!key || (caller.role !== 'admin' && key.tokenId !== caller.tokenId)) {
      throw new SkygateError('not_found', `access key '${id}' does not exist`, { field: 'path.accessKeyId' });
    }
    await this.store.revokeAccessKey(id, new Date().toISOString());
    this.resolved.delete(id);
    await this.audit.emit('access-key.revoked', id, { by: caller.tokenId });
  }

  /**
   * The key, its secret and the principal it acts as; undefined when the key is unknown, revoked, or
   * its token is revoked. The role is the lower of the key's and its token's.
   */
  async resolve(id: string): Promise<ResolvedAccessKey | undefined> {
    const cached = this.resolved.get(id);
    if (cached && cached.until > Date.now()) return cached.value;
    const stored = await this.store.getAccessKey(id);
    if (!stored || stored.revokedAt !== undefined) return undefined;
    const token = await this.store.getToken(stored.tokenId);
    if (!token || token.revokedAt !== undefined) return undefined;
    const { secret, ...key } = stored;
    const role = RANK[key.role] <= RANK[token.role] ? key.role : token.role;
    const value: ResolvedAccessKey = {
      key,
      secret: this.box.open(secret),
      principal: { tokenId: token.id, name: `${token.name} (access key ${key.id})`, role },
    };
    this.resolved.set(id, { value, until: Date.now() + CACHE_MS });
    return value;
  }
}
