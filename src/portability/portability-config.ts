/** Portability settings: upload quota, URL allowlist and export directory, from the config file and SKYGATE_* variables. */
import path from 'node:path';
import { invalid } from '../core/errors.js';

export interface PortabilityConfig {
  /** Largest OVA accepted by upload or URL import, in bytes. */
  uploadMaxBytes: number;
  /** Hosts URL imports may fetch from (`images.example.com`, `*.example.com`, `10.0.0.5`); empty turns URL import off. */
  urlAllowlist: string[];
  /** Where `destination: export-dir` exports are written; unset turns that destination off. */
  exportDir?: string;
}

export const DEFAULT_UPLOAD_MAX_BYTES = 16 * 2 ** 30;

/** Reads the `portability` section of the config file, overridden by environment variables. */
export function loadPortabilityConfig(env: NodeJS.ProcessEnv, file: Partial<PortabilityConfig> = {}): PortabilityConfig {
  const rawMax = env.SKYGATE_UPLOAD_MAX_BYTES ?? file.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES;
  const uploadMaxBytes = typeof rawMax === 'string' ? Number(rawMax) : rawMax;
  if (!Number.isSafeInteger(uploadMaxBytes) || uploadMaxBytes <= 0) {
    throw invalid('portability.uploadMaxBytes', `must be a positive integer, got '${String(rawMax)}'`);
  }
  const rawList = env.SKYGATE_URL_ALLOWLIST === undefined ? file.urlAllowlist : env.SKYGATE_URL_ALLOWLIST.split(',');
  if (rawList !== undefined && (!Array.isArray(rawList) || rawList.some((h) => typeof h !== 'string'))) {
    throw invalid('portability.urlAllowlist', 'must be a list of host names');
  }
  const urlAllowlist = (rawList ?? []).map((h) => h.trim()).filter((h) => h !== '');
  const dir = env.SKYGATE_EXPORT_DIR ?? file.exportDir;
  if (dir !== undefined && (typeof dir !== 'string' || dir === ''))
    throw invalid('portability.exportDir', 'must be a directory path');
  return { uploadMaxBytes, urlAllowlist, ...(dir !== undefined && { exportDir: path.resolve(dir) }) };
}
