/** The sim adapter module: a simulated cloud and load balancer for the quick start, tests, HA drills and benchmarks. */
import type { AdapterContext, CloudAdapterFactory, LoadBalancerAdapterFactory } from '../../src/core/index.js';
import { SimCloudAdapter } from './sim-cloud.js';
import { SimLoadBalancerAdapter } from './sim-load-balancer.js';

export { SimCloudAdapter, SIM_FLAVORS, SIM_SEED_IMAGES } from './sim-cloud.js';
export { SimLoadBalancerAdapter } from './sim-load-balancer.js';
export type { SimFaults } from './sim-faults.js';

// `satisfies` rather than a type annotation keeps the concrete classes, so callers reach the extensions without casts.
export const createCloudAdapter = ((ctx: AdapterContext) => SimCloudAdapter.open(ctx)) satisfies CloudAdapterFactory;
export const createLoadBalancerAdapter = ((ctx: AdapterContext) =>
  SimLoadBalancerAdapter.open(ctx)) satisfies LoadBalancerAdapterFactory;
