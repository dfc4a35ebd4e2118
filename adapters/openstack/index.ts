/** The OpenStack adapter module: nova/glance/cinder as a CloudAdapter, Octavia as the `openstack-octavia` load balancer. */
import type { AdapterContext, CloudAdapterFactory, LoadBalancerAdapterFactory } from '../../src/core/index.js';
import { OpenStackCloudAdapter } from './openstack-cloud.js';
import { OpenStackLoadBalancerAdapter } from './openstack-load-balancer.js';
import { parseOpenStackSettings } from './openstack-settings.js';

export { CLIENT_TOKEN_KEY, OpenStackCloudAdapter } from './openstack-cloud.js';
export { OpenStackLoadBalancerAdapter } from './openstack-load-balancer.js';
export { parseOpenStackSettings, type OpenStackSettings } from './openstack-settings.js';

/**
 * Bad settings fail the start with the setting's name; wrong credentials or an unreachable Keystone do
 * not: they are logged, and the provider's health reports them until they are fixed.
 */
export const createCloudAdapter = (async (ctx: AdapterContext) => {
  const adapter = new OpenStackCloudAdapter(
    ctx.providerId,
    parseOpenStackSettings(ctx.providerId, ctx.settings, (o, m) => ctx.log.warn(o, m)),
    ctx.log,
  );
  await adapter.connect();
  return adapter;
}) satisfies CloudAdapterFactory;

export const createLoadBalancerAdapter = ((ctx: AdapterContext) =>
  new OpenStackLoadBalancerAdapter(
    ctx.providerId,
    parseOpenStackSettings(ctx.providerId, ctx.settings, (o, m) => ctx.log.warn(o, m)),
  )) satisfies LoadBalancerAdapterFactory;
