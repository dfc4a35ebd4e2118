/** Neutron v2.0, only what booting a server needs: the network a `network` setting names. */
import { SkygateError } from '../../src/core/index.js';
import type { ServiceClient } from './http.js';

interface NeutronNetwork {
  id: string;
  name: string;
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
}

/** The catalog lists neutron without its version. */
export const neutronBase = (endpoint: string) => (/\/v2\.0$/.test(endpoint) ? endpoint : `${endpoint}/v2.0`);
