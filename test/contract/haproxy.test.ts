/** The load balancer contract against the haproxy adapter, over the runtime API of a real HAProxy started for it. */
import { createLoadBalancerAdapter } from '../../adapters/haproxy/index.js';
import { TestHaproxy } from '../helpers/haproxy-process.js';
import { runLoadBalancerContract } from './load-balancer-contract.js';

const quiet = { info() {}, warn() {}, error() {} };

runLoadBalancerContract('haproxy', async () => {
  const haproxy = await TestHaproxy.start([
    { name: 'web', lines: ['balance roundrobin', 'option httpchk GET /healthz'] },
    { name: 'other', lines: ['balance roundrobin'] },
  ]);
  const lb = createLoadBalancerAdapter({
    providerId: 'haproxy-contract',
    settings: { socket: haproxy.socket, serverOptions: 'check inter 300ms fall 2 rise 1' },
    dataDir: '',
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
      await haproxy.close();
    },
  };
});
