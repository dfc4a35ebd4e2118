/** Checks a pool's desired targets before they are stored: every problem names the target and field at fault. */
import { invalid } from '../core/errors.js';
import type { TargetState } from '../core/ports.js';
import type { DesiredTarget } from '../core/store-port.js';

const STATES: ReadonlySet<string> = new Set<TargetState>(['active', 'draining', 'maintenance']);
const MAX_WEIGHT = 256;

/** Answers the targets in a canonical form (only known fields), or throws `invalid_input` naming `field[i].key`. */
export function checkDesiredTargets(targets: unknown, field = 'targets'): DesiredTarget[] {
  if (!Array.isArray(targets)) throw invalid(field, 'must be a list of { address, port, state, weight? }');
  const seen = new Set<string>();
  return targets.map((raw, i) => {
    const at = `${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw invalid(at, 'must be an object');
    const { address, port, state, weight } = raw as Record<string, unknown>;
    if (typeof address !== 'string' || address.length === 0 || address.length > 255 || /[\s/;]/.test(address)) {
      throw invalid(`${at}.address`, 'must be an IP address or host name');
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid(`${at}.port`, 'must be an integer from 1 to 65535');
    }
    if (typeof state !== 'string' || !STATES.has(state)) throw invalid(`${at}.state`, `must be one of ${[...STATES].join(', ')}`);
    if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT)) {
      throw invalid(`${at}.weight`, `must be an integer from 0 to ${MAX_WEIGHT}`);
    }
    const id = `${address}:${port}`;
    if (seen.has(id)) throw invalid(`${at}.address`, `${id} is listed twice`);
    seen.add(id);
    return { address, port, state: state as TargetState, ...(weight !== undefined && { weight: weight as number }) };
  });
}
