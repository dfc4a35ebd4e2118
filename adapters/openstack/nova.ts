/** Nova (compute v2.1) at a fixed microversion: servers, their actions, volume attachments, flavors and zones. */
import type { ServiceClient } from './http.js';

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  created: string;
  /** When the server last changed (for a deleted one: about when it was deleted). */
  updated?: string;
  metadata?: Record<string, string>;
  /** Before 2.47 `{id}`; from 2.47 on the flavor is embedded and only its `original_name` names it. */
  flavor: { id?: string; original_name?: string };
  /** "" for a server booted from a volume. */
  image: { id: string } | '';
  addresses?: Record<string, Array<{ addr: string; 'OS-EXT-IPS:type'?: string }>>;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:vm_state'?: string;
  'OS-EXT-AZ:availability_zone'?: string;
  key_name?: string | null;
}

export interface NovaFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface CreateServerBody {
  name: string;
  flavorRef: string;
  imageRef: string;
  availability_zone?: string;
  metadata: Record<string, string>;
  /** `"none"` (2.37+) or ports on named networks. */
  networks: 'none' | Array<{ uuid: string }>;
  user_data?: string;
  key_name?: string;
}

interface Link {
  rel: string;
  href: string;
}

export class Nova {
  constructor(readonly http: ServiceClient) {}

  /**
   * One page of servers, newest first; `more` when nova linked a next page. With `changesSince` nova lists
   * the servers changed since then, deleted ones included (status DELETED), even to a non-admin.
   */
  async listServers(q: {
    limit?: number;
    marker?: string;
    name?: string;
    changesSince?: string;
  }): Promise<{ servers: NovaServer[]; more: boolean }> {
    const { data } = await this.http.json<{ servers: NovaServer[]; servers_links?: Link[] }>('GET', '/servers/detail', {
      query: { limit: q.limit, marker: q.marker, name: q.name, 'changes-since': q.changesSince },
    });
    return { servers: data.servers, more: (data.servers_links ?? []).some((l) => l.rel === 'next') };
  }

  async getServer(id: string): Promise<NovaServer> {
    return (await this.http.json<{ server: NovaServer }>('GET', `/servers/${enc(id)}`)).data.server;
  }

  async createServer(body: CreateServerBody): Promise<string> {
    return (await this.http.json<{ server: { id: string } }>('POST', '/servers', { json: { server: body } })).data.server.id;
  }

  async deleteServer(id: string): Promise<void> {
    await this.http.send('DELETE', `/servers/${enc(id)}`);
  }

  /** A server action (`os-start`, `os-stop`, `reboot`…); answers the body, if any (createImage's image id). */
  async action<T = unknown>(id: string, body: Record<string, unknown>): Promise<T> {
    return (await this.http.json<T>('POST', `/servers/${enc(id)}/action`, { json: body })).data;
  }

  /** Snapshots the server's disk into a new glance image (2.45+: the image id is in the body). */
  async createImage(id: string, name: string, metadata: Record<string, string>): Promise<string> {
    return (await this.action<{ image_id: string }>(id, { createImage: { name, metadata } })).image_id;
  }

  /** Replaces all the server's metadata. */
  async renameServer(id: string, name: string): Promise<void> {
    await this.http.json('PUT', `/servers/${enc(id)}`, { json: { server: { name } } });
  }

  async setMetadata(id: string, metadata: Record<string, string>): Promise<void> {
    await this.http.json('PUT', `/servers/${enc(id)}/metadata`, { json: { metadata } });
  }

  async attachVolume(serverId: string, volumeId: string, device?: string): Promise<void> {
    await this.http.json('POST', `/servers/${enc(serverId)}/os-volume_attachments`, {
      json: { volumeAttachment: { volumeId, ...(device !== undefined && { device }) } },
    });
  }

  async detachVolume(serverId: string, volumeId: string): Promise<void> {
    await this.http.send('DELETE', `/servers/${enc(serverId)}/os-volume_attachments/${enc(volumeId)}`);
  }

  async listFlavors(): Promise<NovaFlavor[]> {
    return (await this.http.json<{ flavors: NovaFlavor[] }>('GET', '/flavors/detail')).data.flavors;
  }

  /** Zones that are available now. */
  async zones(): Promise<string[]> {
    const { data } = await this.http.json<{
      availabilityZoneInfo: Array<{ zoneName: string; zoneState: { available: boolean } }>;
    }>('GET', '/os-availability-zone');
    return data.availabilityZoneInfo.filter((z) => z.zoneState.available).map((z) => z.zoneName);
  }
}

/** Both headers: `OpenStack-API-Version` for current nova, the legacy one for clouds older than Newton. */
export const novaHeaders = (microversion: string) => ({
  'OpenStack-API-Version': `compute ${microversion}`,
  'X-OpenStack-Nova-API-Version': microversion,
});

const enc = encodeURIComponent;
