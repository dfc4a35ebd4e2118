/**
 * The core's network.update and a launch naming a created network, on an in-process gateway with two sims:
 * refusals name the field and leave everything as it was; a batch lands on the network with one address each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SkygateError, toSkygateError } from '../../src/core/errors.js';
import type { CoreServices } from '../../src/core/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let core: CoreServices;
const caller = { principal: 'unit-test' };
before(async () => {
  gw = await startTestGateway();
  core = gw.gateway.core;
});
after(async () => {
  await gw.close();
});

async function refusal(p: Promise<unknown>): Promise<SkygateError> {
  try {
    await p;
  } catch (e) {
    return toSkygateError(e);
  }
  return assert.fail('expected a refusal');
}

describe('network.update', () => {
  it('renames and replaces the tag set in one call, and refuses bad input, the default network and unknown ones unchanged', async () => {
    const net = await core.network.create({ provider: 'sim-east', name: 'a', cidr: '10.80.0.0/24', tags: { team: 'x' } }, caller);
    const updated = await core.network.update(net.id, { name: 'b', tags: { tier: 'web' } }, caller);
    assert.equal(updated.id, net.id);
    assert.equal(updated.provider, 'sim-east');
    assert.equal(updated.name, 'b');
    assert.deepEqual(updated.tags, { tier: 'web' });
    assert.deepEqual(await core.network.get(net.id), updated);

    const cases: Array<[Promise<unknown>, string, string, RegExp]> = [
      [core.network.update(net.id, { name: '' }, caller), 'invalid_input', 'name', /name/],
      [core.network.update(net.id, { name: 'ok', tags: { k: 'v'.repeat(300) } }, caller), 'invalid_input', 'tags', /at most 256/],
      [
        core.network.update('sim-east:default-network', { name: 'x' }, caller, 'path.id'),
        'invalid_input',
        'path.id',
        /synthesized by skygate, not held by the provider; it cannot be changed/,
      ],
      [core.network.update('sim-east:net-00000000000000000', { name: 'x' }, caller), 'not_found', 'id', /does not exist/],
      [core.network.update('nowhere', { name: 'x' }, caller), 'invalid_input', 'id', /providerId:nativeId/],
    ];
    for (const [p, code, field, message] of cases) {
      const err = await refusal(p);
      assert.equal(err.code, code, err.message);
      assert.equal(err.field, field, err.message);
      assert.match(err.message, message);
    }
    assert.deepEqual(await core.network.get(net.id), updated, 'the refusals changed nothing');
    await core.network.delete(net.id, caller);
  });
});

describe('a launch on a created network', () => {
  it('checks the network once for the batch, and every instance gets its own address in the block', async () => {
    const net = await core.network.create({ provider: 'sim-west', name: 'batch', cidr: '10.81.0.0/28' }, caller);
    const ops = (await gw.api('get', '/v1/operations?limit=1000')).body.items.length;
    const launch = (network: unknown, provider = 'sim-west') =>
      core.launches.launch({ provider, imageId: 'img-cirros-0-6', network: network as string }, caller);
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [launch('sim-west:net-00000000000000000'), /body.network: network 'sim-west:net-00000000000000000' does not exist/],
      [launch(net.id, 'sim-east'), /body.network: network '.*' is at provider 'sim-west', not at 'sim-east'/],
      [launch(42), /body.network: must be a network id/],
      [launch('no-colon'), /body.network: 'no-colon' is not a skygate id/],
    ];
    for (const [p, message] of cases) {
      const err = await refusal(p);
      assert.equal(err.code, 'invalid_input', err.message);
      assert.equal(err.field, 'body.network');
      assert.match(err.message, message);
    }
    assert.equal((await gw.api('get', '/v1/operations?limit=1000')).body.items.length, ops, 'no operation was written');

    const op = await core.launches.launch(
      { provider: 'sim-west', imageId: 'img-cirros-0-6', network: net.id, minCount: 3 },
      caller,
    );
    const { instances } = await core.launches.created(op.id, 10_000);
    assert.equal(instances.length, 3);
    assert.deepEqual(
      instances.map((i) => i.networkId),
      [net.id, net.id, net.id],
    );
    const addresses = instances.map((i) => i.privateIp ?? '');
    assert.equal(new Set(addresses).size, 3, 'one address each');
    for (const a of addresses) assert.match(a, /^10\.81\.0\.([2-9]|1[0-4])$/, 'a host of the block, not its gateway (.1)');

    // Through REST too (the response checked against the spec), and the default network named is the default.
    const rest = await gw.api('get', `/v1/instances/${instances[0]?.id}`);
    assert.equal(rest.body.networkId, net.id);
    const plain = await core.launches.launch(
      { provider: 'sim-west', imageId: 'img-cirros-0-6', network: 'sim-west:default-network' },
      caller,
    );
    const [onDefault] = (await core.launches.created(plain.id, 10_000)).instances;
    assert.equal(onDefault?.networkId, undefined);
    assert.match(onDefault?.privateIp ?? '', /^127\./);

    // REST's launch body takes `network` (the request and answers checked against the spec).
    const viaRest = await gw.api('post', '/v1/instances', {
      provider: 'sim-west',
      name: 'rest-on-net',
      flavorId: 'sim.small',
      imageId: 'img-cirros-0-6',
      network: net.id,
    });
    assert.equal(viaRest.status, 202, JSON.stringify(viaRest.body));
    const done = await gw.waitOperation(viaRest.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const restInstance = await gw.api('get', `/v1/instances/${done.target}`);
    assert.equal(restInstance.body.networkId, net.id);
    const badRest = await gw.api('post', '/v1/instances', {
      provider: 'sim-west',
      name: 'rest-bad-net',
      flavorId: 'sim.small',
      imageId: 'img-cirros-0-6',
      network: 'sim-west:net-00000000000000000',
    });
    assert.equal(badRest.status, 400);
    assert.match(JSON.stringify(badRest.body), /body.network/);
    instances.push(restInstance.body);

    const inUse = await refusal(core.network.delete(net.id, caller));
    assert.equal(inUse.code, 'conflict');
    for (const i of [...instances, onDefault]) await core.resources.instanceAction(String(i?.id), 'delete', caller);
  });
});
