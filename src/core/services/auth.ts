/** Bearer API tokens with roles, stored only as SHA-256 hashes; the bootstrap admin token is never a built-in default. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkygateError } from '../errors.js';
import type { Principal, Role } from '../model.js';
import { checkName } from '../name-policy.js';
import type { EventBus } from '../events.js';
import type { ApiToken, Store } from '../store-port.js';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const newSecret = () => `sgt_${randomBytes(32).toString('base64url')}`;

/** How long a verified token is trusted without asking the store again (another replica's revocation lags by this). */
const CACHE_MS = 5_000;

/** Token and access key names are shorter than resource names (the spec's CreateTokenRequest). */
export const TOKEN_NAME_MAX = 128;

export class AuthService {
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly store: Store,
    /** Where token changes are audited, whichever front made them. */
    private readonly audit: Pick<EventBus, 'emit'>,
  ) {}

  /**
   * Makes sure an admin can get in: the token from SKYGATE_ADMIN_TOKEN when given, else on first start
   * a generated one written to `<dataDir>/admin-token` (mode 0600). Answers that file's path when written.
   */
  async bootstrap(dataDir: string, envToken?: string): Promise<string | undefined> {
    if (envToken) {
      if (envToken.length < 16)
        throw new SkygateError('invalid_input', 'SKYGATE_ADMIN_TOKEN must be at least 16 characters', {
          field: 'SKYGATE_ADMIN_TOKEN',
        });
      if (!(await this.store.findTokenByHash(hashToken(envToken)))) await this.insert('bootstrap-admin', 'admin', envToken);
      return undefined;
    }
    if ((await this.store.listTokens()).some((t) => t.role === 'admin' && !t.revokedAt)) return undefined;
    const secret = newSecret();
    await this.insert('bootstrap-admin', 'admin', secret);
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, 'admin-token');
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return file;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1])
      throw new SkygateError('unauthorized', 'missing bearer token (Authorization: Bearer <token>)', {
        field: 'header.authorization',
      });
    const hash = hashToken(match[1]);
    const cached = this.verified.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const token = await this.store.findTokenByHash(hash);
    if (!token) throw new SkygateError('unauthorized', 'unknown or revoked token', { field: 'header.authorization' });
    const principal: Principal = { tokenId: token.id, name: token.name, role: token.role };
    this.verified.set(hash, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  /** Throws forbidden unless `principal` has at least `role`. */
  require(principal: Principal, role: Role): void {
    if (RANK[principal.role] < RANK[role]) {
      throw new SkygateError('forbidden', `this needs the ${role} role; token '${principal.name}' is ${principal.role}`);
    }
  }

  /** Issues a token; the secret is answered once and never stored. */
  async issue(name: string, role: Role, by?: string): Promise<ApiToken & { token: string }> {
    checkName(name, 'body.name', TOKEN_NAME_MAX);
    const secret = newSecret();
    const token = await this.insert(name, role, secret);
    await this.audit.emit('token.issued', token.id, { name, role, ...(by !== undefined && { by }) });
    return { ...token, token: secret };
  }

  list(): Promise<ApiToken[]> {
    return this.store.listTokens();
  }

  async revoke(id: string, by?: string): Promise<void> {
    if (!(await this.store.revokeToken(id, new Date().toISOString()))) {
      throw new SkygateError('not_found', `token '${id}' does not exist`, { field: 'path.tokenId' });
    }
    await this.audit.emit('token.revoked', id, { ...(by !== undefined && { by }) });
    for (const [hash, v] of this.verified) if (v.principal.tokenId === id) this.verified.delete(hash);
  }

  private async insert(name: string, role: Role, secret: string): Promise<ApiToken> {
    const token: ApiToken = { id: `tok-${randomUUID()}`, name, role, createdAt: new Date().toISOString() };
    await this.store.insertToken({ ...token, hash: hashToken(secret) });
    return token;
  }
}
