/** The cloud and load balancer contracts against the sim, with short transitions and throwaway data dirs. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudAdapter, createLoadBalancerAdapter } from '../../adapters/sim/index.js';
import { runCloudAdapterContract } from './cloud-adapter-contract.js';
import { runLoadBalancerContract } from './load-balancer-contract.js';

const quiet = { info() {}, warn() {}, error() {} };

runCloudAdapterContract('sim', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-sim-contract-'));
  const adapter = await createCloudAdapter({ providerId: 'sim-contract', settings: { latencyMs: 20 }, dataDir, log: quiet });
  return {
    adapter,
    flavorId: 'sim.small',
    imageId: 'img-cirros-0-6',
    timeoutMs: 2000,
    cleanup: async () => {
      await adapter.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

runLoadBalancerContract('sim', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'skygate-sim-lb-contract-'));
  const lb = await createLoadBalancerAdapter({
    providerId: 'sim-lb-contract',
    settings: { pools: ['web'] },
    dataDir,
    log: quiet,
  });
  return {
    lb,
    poolId: 'web',
    target: { address: '127.0.0.2', port: 18561 },
    unknownTargetId: '127.0.0.9:18561',
    unknownPoolId: 'no-such-pool',
    timeoutMs: 5000,
    cleanup: async () => {
      await lb.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
