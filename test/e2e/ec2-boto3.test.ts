/**
 * The EC2 front driven by Debian's boto3 (python3-boto3, run by /usr/bin/python3 for which it is
 * installed) as a second real client: ec2-boto3-lifecycle.py walks an instance's life with boto3's own
 * waiters, launching through a network interface and re-reading each delete at once; each step it
 * reports is checked here against what EC2 answers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { awsCli } from '../helpers/aws-cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ec2-boto3-lifecycle.py');
const run = promisify(execFile);

interface Step {
  ok: boolean;
  skipped?: string;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

let gw: TestGateway;
let steps: Record<string, Step> = {};

/** A step that ran and succeeded, or the reason it did not, as the assertion message. */
function passed(name: string): Step {
  const s = steps[name];
  assert.ok(s, `the script reported no step '${name}'`);
  assert.ok(s.ok, `${name}: ${JSON.stringify(s.error ?? s.skipped)}`);
  return s;
}

/** The network interface the script asks for, as EC2 shows it back. */
const asked = (net: Step) => [
  { subnetId: net.subnet, groups: [net.group], description: 'x', deleteOnTermination: true, deviceIndex: 0 },
];

before(async () => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: install Debian's python3-boto3 (scripts/test.sh does)`);
  await run(PYTHON, ['-c', 'import boto3']).catch(() =>
    assert.fail(`boto3 is not importable by ${PYTHON}: install Debian's python3-boto3 (scripts/test.sh does)`),
  );
  gw = await startTestGateway();
  const cli = await awsCli(gw, 'boto3-test');
  const { stdout } = await run(PYTHON, [SCRIPT], {
    env: {
      ...cli.env,
      SKYGATE_EC2_ENDPOINT: `${gw.url}/ec2`,
      RUN: String(process.pid),
    },
    timeout: 600_000,
    maxBuffer: 4 * 1024 * 1024,
  });
  steps = (JSON.parse(stdout) as { steps: Record<string, Step> }).steps;
});
after(async () => {
  await gw?.close();
});

describe('an instance lifecycle through boto3', () => {
  it('finds the default VPC, its subnets and default security group', () => {
    const s = passed('network');
    assert.match(String(s.subnet), /^subnet-[0-9a-f]{17}$/);
    assert.match(String(s.group), /^sg-[0-9a-f]{17}$/);
  });

  it('launches into the default subnet through a network interface', () => {
    const s = passed('launch');
    const net = passed('network');
    assert.match(String(s.instanceId), /^i-[0-9a-f]{17}$/);
    assert.equal(s.subnetId, net.subnet);
    assert.deepEqual(s.interfaces, asked(net));
  });

  it('finds the new instance by its Name tag at once', () => {
    const s = passed('find_by_tag');
    assert.deepEqual(s.found, [s.expected]);
  });

  it('waits until running (instance_running), in the subnet and group asked for, without a public address', () => {
    const s = passed('wait_running');
    const net = passed('network');
    assert.equal(s.state, 'running');
    assert.equal(s.subnetId, net.subnet);
    assert.equal(s.zone, net.zone);
    assert.deepEqual(s.groups, [net.group]);
    assert.equal(s.publicIp ?? null, null);
    assert.deepEqual(s.interfaces, asked(net));
  });

  it('images it (image_available) and describes the image', () => {
    const made = passed('create_image');
    const s = passed('describe_image');
    assert.deepEqual(s.images, [{ id: made.imageId, name: `boto3-image-${process.pid}`, state: 'available' }]);
  });

  it('makes a volume (volume_available) and a snapshot of it (snapshot_completed)', () => {
    assert.match(String(passed('create_volume').volumeId), /^vol-[0-9a-f]{17}$/);
    assert.match(String(passed('create_snapshot').snapshotId), /^snap-[0-9a-f]{17}$/);
  });

  it('stops (instance_stopped) and starts (instance_running) it', () => {
    passed('stop');
    passed('start');
  });

  it('no longer shows a deregistered image as available on the very next call', () => {
    const s = passed('deregister_image');
    // EC2 answers nothing, or the image as 'deregistered', never 'available' (and no error: see images.ts).
    assert.equal(s.error, null, JSON.stringify(s));
    for (const state of s.seen as string[]) assert.notEqual(state, 'available', JSON.stringify(s));
  });

  it('no longer shows a deleted snapshot as completed on the very next call', () => {
    const s = passed('delete_snapshot');
    // EC2 answers InvalidSnapshot.NotFound once it is gone; until then not 'completed'.
    if (s.error === null) for (const state of s.seen as string[]) assert.notEqual(state, 'completed', JSON.stringify(s));
    else assert.equal(s.error, 'InvalidSnapshot.NotFound');
  });

  it('no longer shows a deleted volume as available on the very next call', () => {
    const s = passed('delete_volume');
    // EC2 answers InvalidVolume.NotFound once it is gone; until then 'deleting'.
    if (s.error === null) for (const state of s.seen as string[]) assert.notEqual(state, 'available', JSON.stringify(s));
    else assert.equal(s.error, 'InvalidVolume.NotFound');
  });

  it('terminates it (instance_terminated)', () => {
    passed('terminate');
  });
});
