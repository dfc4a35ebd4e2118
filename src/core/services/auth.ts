/** Bearer API tokens with roles, stored only as SHA-256 hashes; the bootstrap admin token is never a built-in default. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkygateError } from '../errors.js';
import { AuthThrottle, type AuthThrottleOptions, DEFAULT_AUTH_THROTTLE } from './auth-throttle.js';
import type { Principal, Role } from '../model.js';
import { checkName } from '../name-policy.js';
import type { EventBus } from '../events.js';
import type { ApiToken, Store } from '../store-port.js';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const newSecret = () => `sgt_${randomBytes(32).toString('base64url')}`;

/** How long a verified token is trusted without asking the store again (another replica's revocation lags by this). */
const CACHE_MS = 5_000;
/** Verified tokens kept at most; the oldest verification goes first. */
const CACHE_ENTRIES = 1_000;

export interface AuthOptions {
  /** Hashes a presented secret for the store lookup (injectable so tests can count the hashing). */
  hash?: (token: string) => string;
  cacheMs?: number;
  cacheEntries?: number;
  now?: () => number;
  /** Failed-authentication throttling per client address. */
  throttle?: Partial<AuthThrottleOptions>;
}

/** Token and access key names are shorter than resource names (the spec's CreateTokenRequest). */
export const TOKEN_NAME_MAX = 128;

export class AuthService {
  /**
   * Verified tokens keyed by the presented secret itself, so a hit costs a map lookup and no hashing.
   * The secrets live only in this process's memory, a few seconds each, never in the store or a log.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly hash: (token: string) => string;
  private readonly cacheMs: number;
  private readonly cacheEntries: number;
  private readonly now: () => number;
  private readonly throttle: AuthThrottle;

  constructor(
    private readonly store: Store,
    /** Where token changes are audited, whichever front made them. */
    private readonly audit: Pick<EventBus, 'emit'>,
    options: AuthOptions = {},
  ) {
    this.hash = options.hash ?? hashToken;
    this.cacheMs = options.cacheMs ?? CACHE_MS;
    this.cacheEntries = options.cacheEntries ?? CACHE_ENTRIES;
    this.now = options.now ?? Date.now;
    this.throttle = new AuthThrottle({ ...DEFAULT_AUTH_THROTTLE, ...options.throttle }, this.now);
  }

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
      if (!(await this.store.findTokenByHash(this.hash(envToken)))) await this.insert('bootstrap-admin', 'admin', envToken);
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

  /**
   * The principal of a bearer token. With `from` (the client's address), an address that failed too often
   * is refused (`throttled`) before the token is even looked at, and an unknown token counts against it.
   */
  async authenticate(authorization: string | undefined, from?: string): Promise<Principal> {
    return from === undefined
      ? this.verify(authorization)
      : this.guarded(
          from,
          'rest',
          () => this.verify(authorization),
          // Only a credential that was presented and refused counts: a client that sent none is misconfigured, not guessing.
          (e) => e instanceof SkygateError && e.code === 'unauthorized' && authorization !== undefined,
        );
  }

  /**
   * Runs a front's own authentication `attempt` (EC2's SigV4) under the same per-address throttle;
   * a rejection for which `failed` holds counts against `from`.
   */
  async guarded<T>(from: string, front: string, attempt: () => Promise<T>, failed: (e: unknown) => boolean): Promise<T> {
    this.throttle.check(from, front);
    try {
      return await attempt();
    } catch (e) {
      if (failed(e)) this.throttle.fail(from, front);
      throw e;
    }
  }

  private async verify(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1])
      throw new SkygateError('unauthorized', 'missing bearer token (Authorization: Bearer <token>)', {
        field: 'header.authorization',
      });
    const secret = match[1];
    const cached = this.verified.get(secret);
    if (cached && cached.until > this.now()) return cached.principal;
    if (cached) this.verified.delete(secret);
    const token = await this.store.findTokenByHash(this.hash(secret));
    if (!token) throw new SkygateError('unauthorized', 'unknown or revoked token', { field: 'header.authorization' });
    const principal: Principal = { tokenId: token.id, name: token.name, role: token.role };
    this.remember(secret, principal);
    return principal;
  }

  private remember(secret: string, principal: Principal): void {
    // A Map iterates in insertion order, so the first keys are the oldest verifications.
    for (const key of this.verified.keys()) {
      if (this.verified.size < this.cacheEntries) break;
      this.verified.delete(key);
    }
    this.verified.set(secret, { principal, until: this.now() + this.cacheMs });
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
    for (const [secret, v] of this.verified) if (v.principal.tokenId === id) this.verified.delete(secret);
    await this.audit.emit('token.revoked', id, { ...(by !== undefined && { by }) });
  }

  private async insert(name: string, role: Role, secret: string): Promise<ApiToken> {
    const token: ApiToken = { id: `tok-${randomUUID()}`, name, role, createdAt: new Date().toISOString() };
    await this.store.insertToken({ ...token, hash: this.hash(secret) });
    return token;
  }
}
