/** The adapter contract against the sim, with short transitions and a throwaway data dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudAdapter } from '../../adapters/sim/index.js';
import { runCloudAdapterContract } from './cloud-adapter-contract.js';

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
