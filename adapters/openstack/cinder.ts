/** Cinder v3 at a fixed microversion: volumes, volume snapshots and attachments. */
import type { ServiceClient } from './http.js';

export interface CinderVolume {
  id: string;
  name: string | null;
  status: string;
  size: number;
  availability_zone: string;
  snapshot_id: string | null;
  created_at: string;
  metadata: Record<string, string>;
  attachments: Array<{ server_id: string; device?: string; attachment_id?: string }>;
}

export interface CinderSnapshot {
  id: string;
  name: string | null;
  status: string;
  size: number;
  volume_id: string;
  created_at: string;
  metadata: Record<string, string>;
}

export interface CinderAttachment {
  id: string;
  status: string;
  instance: string | null;
  volume_id: string;
}

interface Link {
  rel: string;
  href: string;
}

type Page = { limit?: number; marker?: string; metadata?: Record<string, string> };

/** Cinder filters by metadata given as a dict literal: `metadata={"k": "v"}`. */
const query = (q: Page) => ({
  limit: q.limit,
  marker: q.marker,
  metadata: q.metadata && JSON.stringify(q.metadata),
});
const hasNext = (links?: Link[]) => (links ?? []).some((l) => l.rel === 'next');

export class Cinder {
  constructor(readonly http: ServiceClient) {}

  async listVolumes(q: Page): Promise<{ volumes: CinderVolume[]; more: boolean }> {
    const { data } = await this.http.json<{ volumes: CinderVolume[]; volumes_links?: Link[] }>('GET', '/volumes/detail', {
      query: query(q),
    });
    return { volumes: data.volumes, more: hasNext(data.volumes_links) };
  }

  async getVolume(id: string): Promise<CinderVolume> {
    return (await this.http.json<{ volume: CinderVolume }>('GET', `/volumes/${enc(id)}`)).data.volume;
  }

  async createVolume(body: {
    name: string;
    size: number;
    availability_zone?: string;
    snapshot_id?: string;
    metadata: Record<string, string>;
  }): Promise<CinderVolume> {
    return (await this.http.json<{ volume: CinderVolume }>('POST', '/volumes', { json: { volume: body } })).data.volume;
  }

  async renameVolume(id: string, name: string): Promise<void> {
    await this.http.json('PUT', `/volumes/${enc(id)}`, { json: { volume: { name } } });
  }

  async deleteVolume(id: string): Promise<void> {
    await this.http.send('DELETE', `/volumes/${enc(id)}`);
  }

  async listSnapshots(q: Page): Promise<{ snapshots: CinderSnapshot[]; more: boolean }> {
    const { data } = await this.http.json<{ snapshots: CinderSnapshot[]; snapshots_links?: Link[] }>('GET', '/snapshots/detail', {
      query: query(q),
    });
    return { snapshots: data.snapshots, more: hasNext(data.snapshots_links) };
  }

  async getSnapshot(id: string): Promise<CinderSnapshot> {
    return (await this.http.json<{ snapshot: CinderSnapshot }>('GET', `/snapshots/${enc(id)}`)).data.snapshot;
  }

  /** `force` lets an in-use volume be snapshotted, as EC2 and the sim allow. */
  async createSnapshot(body: { volume_id: string; name: string; metadata: Record<string, string> }): Promise<CinderSnapshot> {
    const { data } = await this.http.json<{ snapshot: CinderSnapshot }>('POST', '/snapshots', {
      json: { snapshot: { ...body, force: true } },
    });
    return data.snapshot;
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.http.send('DELETE', `/snapshots/${enc(id)}`);
  }

  /** Attachments of one volume in every state, `reserved` and `attaching` included (3.27+). */
  async listAttachments(volumeId: string): Promise<CinderAttachment[]> {
    const { data } = await this.http.json<{ attachments: CinderAttachment[] }>('GET', '/attachments', {
      query: { volume_id: volumeId },
    });
    return data.attachments;
  }
}

export const cinderHeaders = (microversion: string) => ({ 'OpenStack-API-Version': `volume ${microversion}` });

const enc = encodeURIComponent;
