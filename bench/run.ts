/**
 * `npm run bench [-- NAME...]`: runs each benchmark (foundation, ec2, portability, openstack, occi, failover) in its own
 * process, one after another, so none disturbs another's figures. Each prints its table beside its
 * baseline and writes bench/results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ALL = ['foundation', 'ec2', 'portability', 'openstack', 'occi', 'failover'];
const chosen = process.argv.slice(2);
for (const name of chosen) if (!ALL.includes(name)) throw new Error(`unknown benchmark '${name}' (known: ${ALL.join(', ')})`);

let failed = 0;
for (const name of chosen.length > 0 ? chosen : ALL) {
  const file = `bench/${name}.ts`;
  if (!existsSync(file)) continue;
  console.log(`\n=== ${name}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`=== ${name} failed (exit ${run.status})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
