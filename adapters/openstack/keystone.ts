/**
 * Keystone v3: password or application-credential authentication, the service catalog, and a token
 * that is renewed before it expires and again whenever a service turns it down (401).
 */
import { SkygateError } from '../../src/core/index.js';
import { errorFrom, fetchWithDeadline } from './http.js';
import type { Credentials, Interface, OpenStackSettings, ServiceKey } from './openstack-settings.js';

/** Catalog types per service, newest name first (cinder v3 registers both). */
const CATALOG_TYPES: Record<ServiceKey, string[]> = {
  compute: ['compute'],
  image: ['image'],
  'block-storage': ['block-storage', 'volumev3'],
  network: ['network'],
  'load-balancer': ['load-balancer'],
};

interface CatalogEntry {
  type: string;
  endpoints: Array<{ interface: string; region?: string; region_id?: string; url: string }>;
}

interface TokenBody {
  token: {
    expires_at: string;
    issued_at?: string;
    catalog?: CatalogEntry[];
    project?: { id: string; name: string };
    user?: { id: string; name: string };
  };
}

interface Session {
  token: string;
  /** When to renew: the renewal margin before expiry. */
  renewAt: number;
  expiresAt: number;
  projectId?: string;
  /** Resolved endpoint per service present in the catalog (for this region and interface). */
  endpoints: Partial<Record<ServiceKey, string>>;
}

export interface KeystoneOptions {
  provider: string;
  authUrl: string;
  credentials: Credentials;
  region?: string;
  interface: Interface;
  timeoutMs: number;
  renewBeforeMs: number;
  endpointOverrides: Partial<Record<ServiceKey, string>>;
  /** Milliseconds since the epoch; replaceable so a test can move time past a token's renewal point. */
  now?: () => number;
}

/** The Keystone session an adapter of `provider` uses, from its settings (cloud and load balancer alike). */
export function keystoneFor(provider: string, settings: OpenStackSettings, now?: () => number): Keystone {
  return new Keystone({
    provider,
    authUrl: settings.authUrl,
    credentials: settings.credentials,
    region: settings.region,
    interface: settings.interface,
    timeoutMs: settings.requestTimeoutMs,
    renewBeforeMs: settings.tokenRenewBeforeMs,
    endpointOverrides: settings.endpointOverrides,
    ...(now && { now }),
  });
}

export class Keystone {
  private session?: Session;
  private pending?: Promise<Session>;

  constructor(private readonly o: KeystoneOptions) {}

  /** The identity API's base, whether the configured URL names the version or not. */
  get identityUrl(): string {
    return /\/v3$/.test(this.o.authUrl) ? this.o.authUrl : `${this.o.authUrl}/v3`;
  }

  /** A valid token: the current one, or a new one when it is close to expiry or was turned down. */
  async token(): Promise<string> {
    return (await this.current()).token;
  }

  /** The project the token is scoped to (application credentials fix it themselves). */
  async projectId(): Promise<string | undefined> {
    return (await this.current()).projectId;
  }

  /** The service's URL: the endpoint override, else the catalog's; `unsupported` when the catalog has none. */
  async endpoint(service: ServiceKey): Promise<string> {
    const override = this.o.endpointOverrides[service];
    if (override) return override;
    const url = (await this.current()).endpoints[service];
    if (url) return url;
    throw new SkygateError(
      'unsupported',
      `the service catalog of provider '${this.o.provider}' has no ${service} service (types ${CATALOG_TYPES[service].join(
        ', ',
      )}) with a ${this.o.interface} endpoint${this.o.region ? ` in region ${this.o.region}` : ''}`,
      { provider: this.o.provider },
    );
  }

  /**
   * Which services the last catalog held (overrides count as present); undefined before the first
   * successful authentication.
   */
  services(): Set<ServiceKey> | undefined {
    if (!this.session) return undefined;
    const keys = Object.keys(this.session.endpoints) as ServiceKey[];
    return new Set([...keys, ...(Object.keys(this.o.endpointOverrides) as ServiceKey[])]);
  }

  /** Forgets `token` after a service refused it, so the next call authenticates again. */
  invalidate(token: string): void {
    if (this.session?.token === token) this.session = undefined;
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  private current(): Promise<Session> {
    if (this.session && this.now() < this.session.renewAt) return Promise.resolve(this.session);
    // One authentication at a time, however many calls need a token at once.
    this.pending ??= this.authenticate().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async authenticate(): Promise<Session> {
    const url = `${this.identityUrl}/auth/tokens`;
    const site = { provider: this.o.provider, service: 'keystone', method: 'POST', url };
    const res = await fetchWithDeadline(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ auth: this.authBody() }),
      },
      this.o.timeoutMs,
      site,
    );
    if (!res.ok) {
      const err = await errorFrom(res, site);
      if (err.code !== 'unauthorized') throw err;
      throw new SkygateError(
        'unauthorized',
        `Keystone at ${this.o.authUrl} refused the credentials of ${this.who()}: ${err.message}`,
        {
          provider: this.o.provider,
          requestId: err.requestId,
        },
      );
    }
    const token = res.headers.get('x-subject-token');
    const body = (await res.json().catch(() => undefined)) as TokenBody | undefined;
    if (!token || !body?.token?.expires_at) {
      throw new SkygateError('provider_unavailable', `Keystone at ${this.o.authUrl} answered a token request without a token`, {
        provider: this.o.provider,
      });
    }
    const expiresAt = Date.parse(body.token.expires_at);
    const issuedAt = body.token.issued_at ? Date.parse(body.token.issued_at) : this.now();
    const margin = Math.min(this.o.renewBeforeMs, (expiresAt - issuedAt) / 2);
    this.session = {
      token,
      expiresAt,
      renewAt: expiresAt - margin,
      projectId: body.token.project?.id,
      endpoints: this.resolve(body.token.catalog ?? []),
    };
    return this.session;
  }

  private resolve(catalog: CatalogEntry[]): Session['endpoints'] {
    const out: Session['endpoints'] = {};
    for (const [service, types] of Object.entries(CATALOG_TYPES) as Array<[ServiceKey, string[]]>) {
      for (const type of types) {
        const entry = catalog.find((e) => e.type === type);
        const ep = entry?.endpoints.find(
          (e) => e.interface === this.o.interface && (this.o.region === undefined || (e.region_id ?? e.region) === this.o.region),
        );
        if (ep) {
          out[service] = ep.url.replace(/\/+$/, '');
          break;
        }
      }
    }
    return out;
  }

  private authBody(): Record<string, unknown> {
    const c = this.o.credentials;
    if (c.kind === 'application_credential') {
      return { identity: { methods: ['application_credential'], application_credential: { id: c.id, secret: c.secret } } };
    }
    const project = 'id' in c.project ? { id: c.project.id } : { name: c.project.name, domain: c.project.domain };
    return {
      identity: { methods: ['password'], password: { user: { name: c.username, domain: c.userDomain, password: c.password } } },
      scope: { project },
    };
  }

  private who(): string {
    const c = this.o.credentials;
    if (c.kind === 'application_credential') return `application credential '${c.id}'`;
    const domain = 'id' in c.userDomain ? c.userDomain.id : c.userDomain.name;
    const project = 'id' in c.project ? c.project.id : c.project.name;
    return `user '${c.username}' (domain '${domain}', project '${project}')`;
  }
}
