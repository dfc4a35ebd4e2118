/** The adapter contract (the same suite the sim passes) against the local OpenStack, as its non-admin tenant. */
import { runCloudAdapterContract } from '../../contract/cloud-adapter-contract.js';
import { baseImage, TINY_FLAVOR, tenantAdapter } from './openstack-env.js';

runCloudAdapterContract('openstack', async () => {
  const adapter = await tenantAdapter();
  return {
    adapter,
    flavorId: TINY_FLAVOR,
    imageId: await baseImage(adapter),
    timeoutMs: 120_000,
    cleanup: async () => undefined,
  };
});
