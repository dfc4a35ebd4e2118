/** The core's network plan: a block's hosts and first host, which the sim allocates from and AWS routes through. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNetworkPlan, firstHost, hostsOf } from '../../src/core/index.js';

describe('network plan', () => {
  it("lists a block's hosts without its network and broadcast addresses", () => {
    assert.deepEqual([...hostsOf('10.0.0.0/30')], ['10.0.0.1', '10.0.0.2']);
    assert.equal([...hostsOf('192.168.4.0/24')].length, 254);
    assert.equal([...hostsOf('192.168.4.0/24')].at(-1), '192.168.4.254');
  });

  it("takes a block's first host as the default gateway", () => {
    assert.equal(firstHost('10.20.0.0/16'), '10.20.0.1');
    assert.deepEqual(checkNetworkPlan('10.20.0.0/24', undefined), { cidr: '10.20.0.0/24', gateway: '10.20.0.1' });
    assert.throws(() => checkNetworkPlan('10.20.0.0/24', '10.20.0.255'), /must be a host address inside 10\.20\.0\.0\/24/);
  });
});
