/** The HAProxy adapter module: a load balancer only (HAProxy fronts clouds, it is not one). */
import type { AdapterContext, LoadBalancerAdapterFactory } from '../../src/core/index.js';
import { HaproxyLoadBalancerAdapter } from './haproxy-load-balancer.js';

export { HaproxyLoadBalancerAdapter } from './haproxy-load-balancer.js';
export { DEFAULT_SERVER_OPTIONS, parseHaproxySettings, type HaproxySettings } from './haproxy-settings.js';

export const createLoadBalancerAdapter = ((ctx: AdapterContext) =>
  HaproxyLoadBalancerAdapter.open(ctx)) satisfies LoadBalancerAdapterFactory;
