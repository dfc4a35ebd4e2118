/** Glance v2: image records, property filters, and image data streamed in and out without buffering. */
import { Readable } from 'node:stream';
import type { ServiceClient } from './http.js';

export interface GlanceImage {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  created_at: string;
  visibility: string;
  /** md5 of the data, always computed by glance. */
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  /** Custom properties sit beside the base fields. */
  [property: string]: unknown;
}

export class Glance {
  constructor(readonly http: ServiceClient) {}

  /** One page of images visible to the project; `filters` may name custom properties (`?prop=value`). */
  async listImages(q: {
    limit?: number;
    marker?: string;
    filters?: Record<string, string>;
  }): Promise<{ images: GlanceImage[]; more: boolean }> {
    const { data } = await this.http.json<{ images: GlanceImage[]; next?: string }>('GET', '/images', {
      query: { limit: q.limit, marker: q.marker, ...q.filters },
    });
    return { images: data.images, more: data.next !== undefined };
  }

  async getImage(id: string): Promise<GlanceImage> {
    return (await this.http.json<GlanceImage>('GET', `/images/${enc(id)}`)).data;
  }

  /** Creates a `queued` record; base fields and custom properties in one object. */
  async createImage(record: Record<string, unknown>): Promise<GlanceImage> {
    return (await this.http.json<GlanceImage>('POST', '/images', { json: record })).data;
  }

  async deleteImage(id: string): Promise<void> {
    await this.http.send('DELETE', `/images/${enc(id)}`);
  }

  /** Streams `data` into a queued image; glance moves it through `saving` to `active`. */
  async upload(id: string, data: Readable): Promise<void> {
    // Sent chunked, as glanceclient does: the length need not be known in advance.
    await this.http.upload('PUT', `/images/${enc(id)}/file`, data, {
      'Content-Type': 'application/octet-stream',
      'Transfer-Encoding': 'chunked',
    });
  }

  /** The image's data as a Node stream, read as it is consumed. */
  async download(id: string): Promise<Readable> {
    const res = await this.http.send('GET', `/images/${enc(id)}/file`, { headers: { Accept: 'application/octet-stream' } });
    if (!res.body) return Readable.from([]);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
}

/** The catalog lists glance without its version. */
export const glanceBase = (endpoint: string) => (/\/v2(\.\d+)?$/.test(endpoint) ? endpoint : `${endpoint}/v2`);

const enc = encodeURIComponent;
