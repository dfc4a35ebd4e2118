/** The HA config: named defaults, environment over file, and every bad value refused naming its setting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSkygateError } from '../../src/core/errors.js';
import { HA_DEFAULTS, loadHaConfig } from '../../src/ha/ha-config.js';

const refused = (field: string) => (e: unknown) => isSkygateError(e) && e.code === 'invalid_input' && e.field === field;

describe('HA config', () => {
  it('takes the named defaults, and a controller id stable for one data directory', () => {
    const a = loadHaConfig({}, {}, '/srv/skygate/data');
    assert.deepEqual({ ...a, controllerId: undefined }, { ...HA_DEFAULTS, controllerId: undefined });
    assert.equal(loadHaConfig({}, {}, '/srv/skygate/data').controllerId, a.controllerId);
    assert.notEqual(loadHaConfig({}, {}, '/srv/other/data').controllerId, a.controllerId);
  });

  it('reads the file, and the environment over it', () => {
    const c = loadHaConfig(
      { SKYGATE_HA_CONTROLLER_ID: 'gw-2', SKYGATE_HA_ENABLED: 'false' },
      { controllerId: 'gw-1', leaseTtlMs: 4000, controllerIntervalMs: 500, scheduleReplication: false },
    );
    assert.deepEqual(
      [c.controllerId, c.enabled, c.leaseTtlMs, c.controllerIntervalMs, c.scheduleReplication],
      ['gw-2', false, 4000, 500, false],
    );
  });

  it('refuses bad values, naming the setting', () => {
    assert.throws(() => loadHaConfig({}, { leaseTtlMs: 0 }), refused('ha.leaseTtlMs'));
    assert.throws(() => loadHaConfig({}, { drainMs: 1.5 }), refused('ha.drainMs'));
    assert.throws(() => loadHaConfig({}, { healthyTimeoutMs: '10' as never }), refused('ha.healthyTimeoutMs'));
    assert.throws(() => loadHaConfig({}, { leaseTtlMs: 1000, controllerIntervalMs: 800 }), refused('ha.leaseTtlMs'));
    assert.throws(() => loadHaConfig({ SKYGATE_HA_ENABLED: 'maybe' }, {}), refused('ha.enabled'));
    assert.throws(() => loadHaConfig({}, { scheduleReplication: 'yes' as never }), refused('ha.scheduleReplication'));
    assert.throws(() => loadHaConfig({}, { controllerId: '' }), refused('ha.controllerId'));
    assert.throws(() => loadHaConfig({}, { leaseTTL: 5 } as never), refused('ha.leaseTTL'));
  });
});
