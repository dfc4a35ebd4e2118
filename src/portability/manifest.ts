/** OVF manifests (`.mf`): one `ALGO(file)= hexdigest` line per file of the package (DSP0243 5.1). */
import { invalid } from '../core/errors.js';

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512';

const ALGORITHMS: Record<string, DigestAlgorithm> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

export interface Manifest {
  algorithm: DigestAlgorithm;
  /** File name -> lower-case hex digest. */
  digests: Map<string, string>;
}

export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Parses a manifest; every line must use one algorithm (mixing them is refused, as ovftool does). */
export function parseManifest(text: string, field = 'manifest'): Manifest {
  const digests = new Map<string, string>();
  let algorithm: DigestAlgorithm | undefined;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^(SHA1|SHA256|SHA512)\((.+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(line);
    if (!m) throw invalid(field, `line ${i + 1} is not of the form ALGORITHM(file)= digest: '${line.slice(0, 80)}'`);
    const algo = ALGORITHMS[m[1] as string] as DigestAlgorithm;
    if (algorithm !== undefined && algo !== algorithm) throw invalid(field, `mixes ${algorithm} and ${algo} digests`);
    algorithm = algo;
    const digest = (m[3] as string).toLowerCase();
    if (digest.length !== HEX_LENGTH[algo])
      throw invalid(field, `line ${i + 1}: a ${algo} digest has ${HEX_LENGTH[algo]} hex digits`);
    const name = m[2] as string;
    if (digests.has(name)) throw invalid(field, `lists '${name}' twice`);
    digests.set(name, digest);
  }
  if (algorithm === undefined) throw invalid(field, 'is empty');
  return { algorithm, digests };
}

/** Formats a manifest in the order given. */
export function formatManifest(algorithm: DigestAlgorithm, entries: Array<[string, string]>): string {
  const label = algorithm.toUpperCase();
  return entries.map(([name, digest]) => `${label}(${name})= ${digest}\n`).join('');
}
