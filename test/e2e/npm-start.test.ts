/** `npm start` as the README runs it: SIGTERM to the PID of `npm start` stops the gateway and closes its port within seconds. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type GatewayProcess, portOpen, startGatewayProcess, waitUntil } from '../helpers/gateway-process.js';

/** Whether process `pid` still exists (signal 0 tests without sending anything). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let gw: GatewayProcess | undefined;
/** The gateway's own pid, from its log; killed at the end if the test failed and left it running. */
let gatewayPid: number | undefined;
after(async () => {
  if (gatewayPid !== undefined && alive(gatewayPid)) process.kill(gatewayPid, 'SIGKILL');
  await gw?.close();
});

describe('npm start', () => {
  it('stops on SIGTERM to the PID of npm start: the port closes and no gateway process is left', async () => {
    gw = await startGatewayProcess({ via: 'npm' });
    const pids = [...gw.output().matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
    gatewayPid = pids[0];
    assert.ok(gatewayPid, `the gateway logs its pid\n${gw.output()}`);
    const npmPid = gw.child.pid as number;
    const stopped = Date.now();
    const how = await gw.stop('SIGTERM', 10_000);
    await waitUntil(`port ${gw.port} closed`, async () => !(await portOpen(gw?.port ?? 0)), 5_000);
    await waitUntil(`the gateway (pid ${gatewayPid}) gone`, async () => !alive(gatewayPid ?? 0), 5_000);
    assert.ok(Date.now() - stopped < 10_000, 'stopped within seconds');
    assert.ok(!alive(npmPid), 'npm exited');
    assert.match(gw.output(), /"signal":"SIGTERM","msg":"shutting down"/, 'the gateway itself got the signal');
    assert.ok(how.code === 0 || how.signal === 'SIGTERM', `npm start ended cleanly: ${JSON.stringify(how)}`);
  });
});
