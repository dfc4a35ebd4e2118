/** Neutron v2.0: the network a `network` setting names, and the networks (one IPv4 subnet each) skygate creates. */
import { SkygateError } from '../../src/core/index.js';
import type { ServiceClient } from './http.js';

export interface NeutronNetwork {
  id: string;
  name: string;
  description?: string;
  /** Plain strings (the `tag` extension, loaded by default); skygate writes `key=value` and its own markers. */
  tags?: string[];
  created_at?: string;
}

export interface NeutronSubnet {
  id: string;
  network_id: string;
  name: string;
  cidr: string;
  gateway_ip: string | null;
  ip_version: number;
}

/** A port, with only the fields skygate asks for. */
export interface NeutronPort {
  id: string;
  network_id: string;
  /** The server a compute port belongs to. */
  device_id: string;
}

export class Neutron {
  constructor(readonly http: ServiceClient) {}

  /** The id of the network named or numbered `ref`; `invalid_input` on `settings.network` when none or several match. */
  async networkId(ref: string): Promise<string> {
    const byId = await this.http.json<{ networks: NeutronNetwork[] }>('GET', '/networks', { query: { id: ref } });
    if (byId.data.networks.length === 1) return ref;
    const { data } = await this.http.json<{ networks: NeutronNetwork[] }>('GET', '/networks', { query: { name: ref } });
    const [only, ...more] = data.networks;
    if (only && more.length === 0) return only.id;
    const reason = only ? `names ${data.networks.length} networks; give its id` : 'names no network this project can use';
    throw new SkygateError('invalid_input', `settings.network: '${ref}' ${reason}`, {
      field: 'settings.network',
      errors: [{ field: 'settings.network', reason }],
    });
  }

  /** The networks carrying every one of `tags` (neutron's `tags` filter: all of them). */
  async networksTagged(tags: string[]): Promise<NeutronNetwork[]> {
    const { data } = await this.http.json<{ networks: NeutronNetwork[] }>('GET', '/networks', {
      query: { tags: tags.join(',') },
    });
    return data.networks;
  }

  async getNetwork(id: string): Promise<NeutronNetwork> {
    return (await this.http.json<{ network: NeutronNetwork }>('GET', `/networks/${enc(id)}`)).data.network;
  }

  async createNetwork(body: { name: string; description: string }): Promise<NeutronNetwork> {
    return (await this.http.json<{ network: NeutronNetwork }>('POST', '/networks', { json: { network: body } })).data.network;
  }

  async renameNetwork(id: string, name: string): Promise<NeutronNetwork> {
    return (await this.http.json<{ network: NeutronNetwork }>('PUT', `/networks/${enc(id)}`, { json: { network: { name } } }))
      .data.network;
  }

  /** Replaces every tag of a network. */
  async setNetworkTags(id: string, tags: string[]): Promise<void> {
    await this.http.json('PUT', `/networks/${enc(id)}/tags`, { json: { tags } });
  }

  async deleteNetwork(id: string): Promise<void> {
    await this.http.send('DELETE', `/networks/${enc(id)}`);
  }

  /** The subnets of one network, or of every network this project sees. */
  async subnets(networkId?: string): Promise<NeutronSubnet[]> {
    const { data } = await this.http.json<{ subnets: NeutronSubnet[] }>('GET', '/subnets', { query: { network_id: networkId } });
    return data.subnets;
  }

  /** The ports of these servers: one listing (neutron takes a filter's values repeated), only the fields needed. */
  async portsOf(deviceIds: string[]): Promise<NeutronPort[]> {
    const { data } = await this.http.json<{ ports: NeutronPort[] }>('GET', '/ports', {
      query: { device_id: deviceIds, fields: ['id', 'network_id', 'device_id'] },
    });
    return data.ports;
  }

  async createSubnet(body: {
    network_id: string;
    name: string;
    ip_version: 4;
    cidr: string;
    gateway_ip: string;
  }): Promise<NeutronSubnet> {
    return (await this.http.json<{ subnet: NeutronSubnet }>('POST', '/subnets', { json: { subnet: body } })).data.subnet;
  }

  async deleteSubnet(id: string): Promise<void> {
    await this.http.send('DELETE', `/subnets/${enc(id)}`);
  }
}

/** The catalog lists neutron without its version. */
export const neutronBase = (endpoint: string) => (/\/v2\.0$/.test(endpoint) ? endpoint : `${endpoint}/v2.0`);

const enc = encodeURIComponent;
