/** Every real descriptor in test/fixtures/ovf (VirtualBox, VMware, Cisco, Ganeti, OVF 0.9) parses and maps to a sensible sim flavor. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCloudAdapter } from '../../adapters/sim/index.js';
import { closestFlavor } from '../../src/core/flavor-match.js';
import type { NativeFlavor } from '../../src/core/ports.js';
import { planImport } from '../../src/portability/import-plan.js';
import { parseOvf } from '../../src/portability/ovf-parse.js';
import { summarize } from '../../src/portability/ovf-summary.js';

const DIR = 'test/fixtures/ovf';
const GiB = 2 ** 30;
const read = (name: string) => readFileSync(path.join(DIR, name));

interface Expected {
  version: string;
  vcpus: number;
  memoryMiB: number;
  os: string;
  disks: Array<[id: string, capacityBytes: number | null, file: string]>;
  networks: string[];
  nics: number;
  flavor: string;
  warning?: RegExp;
}

const EXPECTED: Record<string, Expected> = {
  'cisco-csr1000v-multi-config.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 4096,
    os: 'Cisco IOS-XE Software',
    disks: [['vmdisk1', GiB, 'input.vmdk']],
    networks: ['GigabitEthernet1', 'GigabitEthernet2', 'GigabitEthernet3'],
    nics: 3,
    flavor: 'sim.medium',
    warning: /serial port/,
  },
  'ganeti-export-gnt-namespace.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 2048,
    os: 'Ubuntu',
    disks: [['vmdisk1', null, 'new_disk.vmdk']],
    networks: [],
    nics: 1,
    flavor: 'sim.medium',
    warning: /no ovf:capacity/,
  },
  'packer-virtualbox-vagrant-tsuru-box.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 512,
    os: 'Ubuntu_64',
    disks: [['vmdisk1', 40 * GiB, 'box-disk.vmdk']],
    networks: ['NAT'],
    nics: 1,
    flavor: 'sim.medium',
  },
  'virtualbox-ovf10-winxp-two-disks-sharedfolders.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 895,
    os: 'WindowsXP',
    disks: [
      ['vmdisk1', 10485760000, 'Windows 5.1 XP 1 merged.vmdk'],
      ['vmdisk2', 2 * GiB, 'smallvdi.vmdk'],
    ],
    networks: ['NAT'],
    nics: 1,
    flavor: 'sim.small',
    warning: /sound card/,
  },
  'virtualbox-ovf20-ubuntu.ovf': {
    version: '2.0',
    vcpus: 1,
    memoryMiB: 512,
    os: 'Ubuntu_64',
    disks: [['vmdisk1', 8 * GiB, 'ubuntu.2.0-disk1.vmdk']],
    networks: ['NAT'],
    nics: 1,
    flavor: 'sim.small',
  },
  'vmware-ovf09-legacy-cot-v0.9.ovf': {
    version: '0.9',
    vcpus: 1,
    memoryMiB: 8192,
    os: 'other26xLinux64Guest',
    disks: [['vmdisk1', GiB, 'input.vmdk']],
    networks: ['bridged'],
    nics: 1,
    flavor: 'sim.large',
    warning: /OVF 0\.9/,
  },
  'vmware-ovftool-build880146-vmx08.ovf': {
    version: '1.0',
    vcpus: 2,
    memoryMiB: 1536,
    os: 'Red Hat Enterprise Linux 6 (64-bit)',
    disks: [['vmdisk1', GiB, 'input.vmdk']],
    networks: ['lanethernet0'],
    nics: 4,
    flavor: 'sim.medium',
  },
  'vsphere-esxi55-export-single-disk.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 2048,
    os: 'windows7_64Guest',
    disks: [['vmdisk1', 32 * GiB, 'test-ova.vmdk']],
    networks: ['VM Network'],
    nics: 1,
    flavor: 'sim.medium',
  },
  'vsphere-esxi55-export-two-disks.ovf': {
    version: '1.0',
    vcpus: 1,
    memoryMiB: 1024,
    os: 'Microsoft Windows Server 2008 R2 (64-bit)',
    disks: [
      ['vmdisk1', 50 * GiB, 'disk1.vmdk'],
      ['vmdisk2', 450 * GiB, 'disk2.vmdk'],
    ],
    networks: ['PG-VLAN60'],
    nics: 1,
    flavor: 'sim.large',
  },
};

describe('real OVF descriptors', () => {
  let flavors: NativeFlavor[];
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'skygate-ovf-'));
    const log = { info() {}, warn() {}, error() {} };
    const sim = await createCloudAdapter({ providerId: 'sim-west', settings: { latencyMs: 0 }, dataDir, log });
    flavors = await sim.listFlavors();
    await sim.close?.();
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  it('has an expectation for every fixture', () => {
    const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.ovf'));
    assert.deepEqual(fixtures.sort(), Object.keys(EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(`${file}: hardware, disks, networks and flavor`, () => {
      const env = parseOvf(read(file));
      const summary = summarize(env);
      assert.equal(summary.ovfVersion, want.version);
      const vs = summary.virtualSystems[0];
      assert.ok(vs);
      assert.equal(vs.vcpus, want.vcpus);
      assert.equal(vs.memoryMiB, want.memoryMiB);
      assert.equal(vs.os, want.os);
      assert.deepEqual(
        vs.disks.map((d) => [d.id, d.capacityBytes, d.file]),
        want.disks,
      );
      assert.ok(vs.disks.every((d) => d.format === 'vmdk'));
      assert.deepEqual(vs.networks, want.networks);
      assert.equal(vs.nics, want.nics);
      if (want.warning)
        assert.ok(
          env.warnings.some((w) => want.warning?.test(w)),
          `warnings: ${env.warnings.join(' | ')}`,
        );

      const plan = planImport(env);
      assert.equal(plan.disk.id, want.disks[0]?.[0]);
      assert.deepEqual(
        plan.skippedDisks,
        want.disks.slice(1).map((d) => d[0]),
      );
      const match = closestFlavor(plan.need, flavors);
      assert.equal(match?.flavor.nativeId, want.flavor);
    });
  }

  it('reports the default DeploymentOption configuration and lists the others', () => {
    const vs = summarize(parseOvf(read('cisco-csr1000v-multi-config.ovf'))).virtualSystems[0];
    assert.equal(vs?.configuration, '1CPU-4GB');
    assert.deepEqual(vs?.otherConfigurations, [
      { id: '2CPU-4GB', label: 'Medium', vcpus: 2, memoryMiB: 4096 },
      { id: '4CPU-4GB', label: 'Large', vcpus: 4, memoryMiB: 4096 },
      { id: '4CPU-8GB', label: 'Large + DRAM Upgrade', vcpus: 4, memoryMiB: 8192 },
    ]);
  });

  it('keeps ProductSection properties', () => {
    const product = parseOvf(read('cisco-csr1000v-multi-config.ovf')).virtualSystems[0]?.products[0];
    assert.equal(product?.vendor, 'Cisco Systems, Inc.');
    assert.ok(product?.properties.some((p) => p.key === 'hostname' && p.userConfigurable));
  });

  it('a 450 GiB disk lands on the largest disk on offer, recorded as a shortfall', () => {
    const env = parseOvf(read('vsphere-esxi55-export-two-disks.ovf'));
    const need = { ...planImport(env).need, diskGiB: 450 };
    const match = closestFlavor(need, flavors);
    assert.equal(match?.fits, false);
    assert.equal(match?.flavor.nativeId, 'sim.xlarge');
    assert.deepEqual(match?.shortfalls, ['diskGiB: needs 450, flavor has 160']);
  });
});
