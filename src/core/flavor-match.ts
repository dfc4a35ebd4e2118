/**
 * The closest-flavor rule used whenever a workload moves between clouds (import, replication, failover,
 * evacuation): the smallest flavor that fits every need, or, when none fits, the one that falls shortest.
 */

export interface HardwareNeed {
  vcpus: number;
  memoryMiB: number;
  /** Root disk the workload needs; omitted when unknown. */
  diskGiB?: number;
}

export interface FlavorLike {
  nativeId: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export interface FlavorMatch<F extends FlavorLike> {
  flavor: F;
  /** Every need is met. */
  fits: boolean;
  /** What the flavor lacks, e.g. `diskGiB: needs 450, flavor has 160`. */
  shortfalls: string[];
}

type Dim = 'vcpus' | 'memoryMiB' | 'diskGiB';

function dims(need: HardwareNeed): Dim[] {
  return need.diskGiB === undefined || need.diskGiB <= 0 ? ['vcpus', 'memoryMiB'] : ['vcpus', 'memoryMiB', 'diskGiB'];
}

/**
 * How far a flavor overshoots the need in vCPUs and memory, relative to the need. Disk is left out on
 * purpose: it is cheap, and counting it would trade gigabytes of RAM for a few spare gigabytes of disk.
 */
function overshoot(f: FlavorLike, need: HardwareNeed): number {
  return Math.max(0, f.vcpus / Math.max(1, need.vcpus) - 1) + Math.max(0, f.memoryMiB / Math.max(1, need.memoryMiB) - 1);
}
/** How far a flavor falls short of the need, relative to the need, over every dimension that counts. */
function undershoot(f: FlavorLike, need: HardwareNeed, ds: Dim[]): number {
  return ds.reduce((sum, d) => sum + Math.max(0, 1 - f[d] / Math.max(1, need[d] ?? 0)), 0);
}

/**
 * Picks the flavor closest to `need`. Among flavors that fit, the one with the least relative excess of
 * vCPUs and memory (ties: less memory, fewer vCPUs, smaller disk, then id); when none fits, the one with
 * the smallest relative shortfall, so a 450 GiB disk lands on the largest disk on offer. Undefined for no flavors.
 */
export function closestFlavor<F extends FlavorLike>(need: HardwareNeed, flavors: readonly F[]): FlavorMatch<F> | undefined {
  const ds = dims(need);
  const tieBreak = (a: F, b: F) =>
    a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus || a.diskGiB - b.diskGiB || a.nativeId.localeCompare(b.nativeId);
  const fitting = flavors.filter((f) => ds.every((d) => f[d] >= (need[d] ?? 0)));
  if (fitting.length > 0) {
    const best = [...fitting].sort((a, b) => overshoot(a, need) - overshoot(b, need) || tieBreak(a, b))[0] as F;
    return { flavor: best, fits: true, shortfalls: [] };
  }
  const best = [...flavors].sort(
    (a, b) => undershoot(a, need, ds) - undershoot(b, need, ds) || overshoot(a, need) - overshoot(b, need) || tieBreak(a, b),
  )[0];
  if (!best) return undefined;
  const shortfalls = ds.filter((d) => best[d] < (need[d] ?? 0)).map((d) => `${d}: needs ${need[d]}, flavor has ${best[d]}`);
  return { flavor: best, fits: false, shortfalls };
}
