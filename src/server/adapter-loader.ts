/** Maps an adapter type name to its module under adapters/<type>/, imported only when configured. */
import { SkygateError } from '../core/errors.js';
import type { AdapterLoader } from '../core/registry.js';
import type { AdapterModule } from '../core/ports.js';

/** The adapters this build ships; a type outside this list is a configuration error. */
const MODULES: Record<string, () => Promise<AdapterModule>> = {
  sim: () => import('../../adapters/sim/index.js'),
  aws: () => import('../../adapters/aws/index.js'),
  'aws-elbv2': () => import('../../adapters/aws-elbv2/index.js'),
  haproxy: () => import('../../adapters/haproxy/index.js'),
  openstack: () => import('../../adapters/openstack/index.js'),
  'openstack-octavia': () => import('../../adapters/openstack/index.js'),
};

export const loadAdapter: AdapterLoader = async (type) => {
  const load = MODULES[type];
  if (!load) {
    throw new SkygateError('invalid_input', `unknown adapter type '${type}' (known: ${Object.keys(MODULES).join(', ')})`, {
      field: 'providers.type',
    });
  }
  return load();
};
