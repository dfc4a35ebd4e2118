/** The moves before the HA controller is wired in: each one answers `unsupported`, saying so. */
import { SkygateError } from '../core/errors.js';
import type { HaActions } from './ha-actions.js';

const notYet = (move: string) => async (): Promise<never> => {
  throw new SkygateError('unsupported', `${move}: the HA controller is not wired yet`);
};

export const UNWIRED_HA_ACTIONS: HaActions = {
  failover: notYet('failover'),
  switchover: notYet('switchover'),
  replicate: notYet('replicate'),
};
