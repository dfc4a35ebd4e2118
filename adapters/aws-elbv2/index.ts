/** The aws-elbv2 adapter module: Application/Network Load Balancer target groups as skygate pools, for the HA module. */
import type { AdapterContext, LoadBalancerAdapterFactory } from '../../src/core/index.js';
import { AwsElbv2LoadBalancerAdapter } from './aws-elbv2-load-balancer.js';

export {
  AwsElbv2LoadBalancerAdapter,
  DRAINING_TAG_PREFIX,
  ELBV2_ERRORS,
  MAINTENANCE_TAG_PREFIX,
} from './aws-elbv2-load-balancer.js';

export const createLoadBalancerAdapter = ((ctx: AdapterContext) =>
  AwsElbv2LoadBalancerAdapter.open(ctx)) satisfies LoadBalancerAdapterFactory;
