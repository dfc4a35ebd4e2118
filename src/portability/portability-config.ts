/**
 * Portability settings: upload quota, imported disks' virtual size cap, URL allowlist and export directory, from
 * the config file and SKYGATE_* variables.
 */
import path from 'node:path';
import { invalid } from '../core/errors.js';

export interface PortabilityConfig {
  /** Largest OVA accepted by upload or URL import, in bytes. */
  uploadMaxBytes: number;
  /**
   * Largest virtual size of an imported disk, declared or actual, in bytes: a small sparse qcow2 may claim
   * terabytes, which converting would write out as zeros.
   */
  virtualSizeMaxBytes: number;
  /** Hosts URL imports may fetch from (`images.example.com`, `*.example.com`, `10.0.0.5`); empty turns URL import off. */
  urlAllowlist: string[];
  /** Ports an allowlisted host may be reached on (default 80 and 443): not an internal service on another port. */
  urlPorts: number[];
  /** Where `destination: export-dir` exports are written; unset turns that destination off. */
  exportDir?: string;
}

export const DEFAULT_UPLOAD_MAX_BYTES = 16 * 2 ** 30;
export const DEFAULT_URL_PORTS = [80, 443];
export const DEFAULT_VIRTUAL_SIZE_MAX_BYTES = 2 * 2 ** 40;

/** A positive byte count from the environment (text) or the config file (a number). */
function byteCount(raw: unknown, field: string): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw invalid(field, `must be a positive integer, got '${String(raw)}'`);
  }
  return n;
}

/** Reads the `portability` section of the config file, overridden by environment variables. */
export function loadPortabilityConfig(env: NodeJS.ProcessEnv, file: Partial<PortabilityConfig> = {}): PortabilityConfig {
  const uploadMaxBytes = byteCount(
    env.SKYGATE_UPLOAD_MAX_BYTES ?? file.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES,
    'portability.uploadMaxBytes',
  );
  const virtualSizeMaxBytes = byteCount(
    env.SKYGATE_VIRTUAL_SIZE_MAX_BYTES ?? file.virtualSizeMaxBytes ?? DEFAULT_VIRTUAL_SIZE_MAX_BYTES,
    'portability.virtualSizeMaxBytes',
  );
  const rawList = env.SKYGATE_URL_ALLOWLIST === undefined ? file.urlAllowlist : env.SKYGATE_URL_ALLOWLIST.split(',');
  if (rawList !== undefined && (!Array.isArray(rawList) || rawList.some((h) => typeof h !== 'string'))) {
    throw invalid('portability.urlAllowlist', 'must be a list of host names');
  }
  const urlAllowlist = (rawList ?? []).map((h) => h.trim()).filter((h) => h !== '');
  const rawPorts = env.SKYGATE_URL_PORTS === undefined ? file.urlPorts : env.SKYGATE_URL_PORTS.split(',');
  if (rawPorts !== undefined && !Array.isArray(rawPorts)) throw invalid('portability.urlPorts', 'must be a list of port numbers');
  const urlPorts = (rawPorts ?? DEFAULT_URL_PORTS).map((raw) => {
    const port = typeof raw === 'string' ? Number(raw.trim()) : raw;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid('portability.urlPorts', `'${String(raw)}' is not a port number (1-65535)`);
    }
    return port;
  });
  const dir = env.SKYGATE_EXPORT_DIR ?? file.exportDir;
  if (dir !== undefined && (typeof dir !== 'string' || dir === ''))
    throw invalid('portability.exportDir', 'must be a directory path');
  return {
    uploadMaxBytes,
    virtualSizeMaxBytes,
    urlAllowlist,
    urlPorts,
    ...(dir !== undefined && { exportDir: path.resolve(dir) }),
  };
}
