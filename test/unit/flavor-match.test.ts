/** The closest-flavor rule: smallest that fits (by vCPU and memory excess), else the smallest shortfall. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestFlavor, type FlavorLike } from '../../src/core/flavor-match.js';

const f = (nativeId: string, vcpus: number, memoryMiB: number, diskGiB: number): FlavorLike => ({
  nativeId,
  vcpus,
  memoryMiB,
  diskGiB,
});
const SIM = [
  f('sim.small', 1, 1024, 10),
  f('sim.medium', 2, 4096, 40),
  f('sim.large', 4, 8192, 80),
  f('sim.xlarge', 8, 16384, 160),
];

describe('closestFlavor', () => {
  it('picks the smallest flavor that covers every need', () => {
    assert.equal(closestFlavor({ vcpus: 1, memoryMiB: 512, diskGiB: 8 }, SIM)?.flavor.nativeId, 'sim.small');
    assert.equal(closestFlavor({ vcpus: 1, memoryMiB: 512, diskGiB: 40 }, SIM)?.flavor.nativeId, 'sim.medium');
    assert.equal(closestFlavor({ vcpus: 2, memoryMiB: 1536 }, SIM)?.flavor.nativeId, 'sim.medium');
    assert.equal(closestFlavor({ vcpus: 1, memoryMiB: 8192, diskGiB: 1 }, SIM)?.flavor.nativeId, 'sim.large');
    assert.deepEqual(closestFlavor({ vcpus: 4, memoryMiB: 8192, diskGiB: 80 }, SIM), {
      flavor: SIM[2],
      fits: true,
      shortfalls: [],
    });
  });

  it('does not trade memory for disk: extra RAM costs more than extra disk', () => {
    const flavors = [f('ram-heavy', 2, 65536, 20), f('disk-heavy', 2, 4096, 200)];
    assert.equal(closestFlavor({ vcpus: 2, memoryMiB: 4096, diskGiB: 10 }, flavors)?.flavor.nativeId, 'disk-heavy');
  });

  it('breaks ties by less memory, then fewer vCPUs, then smaller disk, then id', () => {
    const flavors = [f('b', 2, 2048, 20), f('a', 2, 2048, 20), f('c', 2, 2048, 10)];
    assert.equal(closestFlavor({ vcpus: 2, memoryMiB: 2048 }, flavors)?.flavor.nativeId, 'c');
    assert.equal(closestFlavor({ vcpus: 2, memoryMiB: 2048, diskGiB: 15 }, flavors)?.flavor.nativeId, 'a');
  });

  it('when nothing fits, answers the one that falls shortest and says what is missing', () => {
    const m = closestFlavor({ vcpus: 16, memoryMiB: 32768, diskGiB: 450 }, SIM);
    assert.equal(m?.flavor.nativeId, 'sim.xlarge');
    assert.equal(m?.fits, false);
    assert.deepEqual(m?.shortfalls, [
      'vcpus: needs 16, flavor has 8',
      'memoryMiB: needs 32768, flavor has 16384',
      'diskGiB: needs 450, flavor has 160',
    ]);
  });

  it('ignores an unknown disk need and answers undefined for no flavors', () => {
    assert.equal(closestFlavor({ vcpus: 1, memoryMiB: 0 }, SIM)?.flavor.nativeId, 'sim.small');
    assert.equal(closestFlavor({ vcpus: 1, memoryMiB: 1024 }, []), undefined);
  });
});
