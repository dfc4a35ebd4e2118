/**
 * DescribeInstances listing pages are kept whole between requests (tools poll the same pages): a change to what a
 * page shows (a tag, an attribute, a state, an instance made or ended) is in the very next page, with no sleep,
 * and a page read twice without a change is the same.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
  type _InstanceType,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ec2ClientFor } from '../helpers/ec2-client.js';
import { simProviders, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** skygate's instance types are its flavors, which the SDK's enum of AWS types does not list. */
const SIM_SMALL = 'sim.small' as _InstanceType;

describe('EC2 DescribeInstances kept listing pages', () => {
  let gw: TestGateway;
  let ec2: EC2Client;
  let ids: string[];

  before(async () => {
    // A long max age: only the gateway's own writes change the inventory between reads.
    gw = await startTestGateway({ providers: simProviders(0), inventory: { maxAgeMs: 60_000 } });
    ec2 = await ec2ClientFor(gw, 'sim-east');
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: await imageId(), InstanceType: SIM_SMALL, MinCount: 3, MaxCount: 3 }),
    );
    ids = (run.Instances ?? []).map((i) => i.InstanceId as string).sort();
    assert.equal(ids.length, 3);
  });
  after(async () => {
    ec2?.destroy();
    await gw?.close();
  });

  async function imageId(): Promise<string> {
    const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['ubuntu-22.04'] }] }));
    const id = images.Images?.[0]?.ImageId;
    assert.ok(id, 'the seed image is listed');
    return id;
  }

  /** The listing page by page (5 a page), as a paginating tool reads it. */
  async function listing(): Promise<Map<string, Instance>> {
    const out = new Map<string, Instance>();
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.set(i.InstanceId as string, i);
      token = page.NextToken;
    } while (token);
    return out;
  }

  it('answers the same page again while nothing changed', async () => {
    const first = await listing();
    const second = await listing();
    assert.deepEqual([...first.keys()].sort(), ids);
    assert.deepEqual(second, first);
  });

  it('shows each change in the very next page', async () => {
    const [a, b, c] = ids as [string, string, string];
    await listing();

    await ec2.send(new CreateTagsCommand({ Resources: [a], Tags: [{ Key: 'team', Value: 'blue' }] }));
    assert.deepEqual((await listing()).get(a)?.Tags, [{ Key: 'team', Value: 'blue' }], 'a tag');

    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: b, SourceDestCheck: { Value: false } }));
    assert.equal((await listing()).get(b)?.SourceDestCheck, false, 'an attribute');

    await ec2.send(new StopInstancesCommand({ InstanceIds: [c] }));
    assert.notEqual((await listing()).get(c)?.State?.Name, 'running', 'a state');

    const more = await ec2.send(
      new RunInstancesCommand({ ImageId: await imageId(), InstanceType: SIM_SMALL, MinCount: 1, MaxCount: 1 }),
    );
    const d = more.Instances?.[0]?.InstanceId as string;
    assert.ok((await listing()).has(d), 'an instance made');

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [d] }));
    const state = (await listing()).get(d)?.State?.Name;
    assert.ok(state === 'shutting-down' || state === 'terminated', `an instance ended (${state})`);
  });
});
