/**
 * The README's curl tours, exactly as written, run by bash, curl and jq against a real gateway process
 * (`src/server/main.ts` with its default configuration), twice in a row, with what each step prints checked:
 * the tour, its error example, its `wait_op` helper on what is not a running operation, and the portability block.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Operation } from '../../src/core/model.js';
import { type GatewayProcess, REPO, startGatewayProcess } from '../helpers/gateway-process.js';
import { jsonLines, readmeBlock, runBash } from '../helpers/readme-blocks.js';

/** A tour run may take this long; a hang (a wait that never ends) fails the test instead of stalling it. */
const RUN_TIMEOUT_MS = 120_000;

let gw: GatewayProcess;
/** The reader's directory: where `npm start` was run (its `data/admin-token`) and where `ubuntu.ova` lands. */
let home: string;
let setup: string;

before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'skygate-reader-'));
  // `npx skygate` resolves the checkout's own bin from its package.json, as it does in a clone.
  await copyFile(path.join(REPO, 'package.json'), path.join(home, 'package.json'));
  await symlink(path.join(REPO, 'bin'), path.join(home, 'bin'));
  await symlink(path.join(REPO, 'node_modules'), path.join(home, 'node_modules'));
  // No SKYGATE_ADMIN_TOKEN: the gateway writes data/admin-token, which the tour reads, as on a first start.
  gw = await startGatewayProcess({ dataDir: path.join(home, 'data') });
  setup = await readmeBlock('tour-setup');
});
after(async () => {
  await gw?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs README blocks after the tour's setup block, as a reader pastes them into one shell. */
const run = (...blocks: string[]) =>
  runBash([setup, ...blocks].join('\n'), {
    // Only what a reader's shell has: the port the gateway was started on (SKYGATE_PORT), not its URL or token.
    env: { PATH: process.env.PATH, HOME: home, SKYGATE_PORT: String(gw.port) },
    cwd: home,
    timeoutMs: RUN_TIMEOUT_MS,
  });

type Line = Record<string, unknown>;
interface OpLine {
  kind: string;
  status: string;
  progress: number;
  result: { resourceKind?: string; resourceId?: string; replicas?: Array<{ provider: string; imageId: string }> };
}

/** Takes the next `n` lines (or every line while `take` holds), failing with the whole output when they are missing. */
class Reader {
  private at = 0;
  constructor(
    private readonly lines: unknown[],
    private readonly output: string,
  ) {}
  next<T = Line>(what: string): T {
    assert.ok(this.at < this.lines.length, `expected ${what}, but the output ended\n${this.output}`);
    return this.lines[this.at++] as T;
  }
  while<T = Line>(take: (line: Line) => boolean): T[] {
    const out: T[] = [];
    while (this.at < this.lines.length && take(this.lines[this.at] as Line)) out.push(this.lines[this.at++] as T);
    return out;
  }
  op(kind: string): OpLine {
    const op = this.next<OpLine>(`the ${kind} operation`);
    assert.equal(op.kind, kind, this.output);
    assert.equal(op.status, 'succeeded', this.output);
    assert.equal(op.progress, 100, this.output);
    return op;
  }
  end(): void {
    assert.equal(this.at, this.lines.length, `unexpected lines after the last step\n${this.output}`);
  }
}

/** Every event the gateway has logged, oldest first. */
async function allEvents(): Promise<Array<{ seq: number; type: string; subject: string }>> {
  const events: Array<{ seq: number; type: string; subject: string }> = [];
  for (;;) {
    const since = events.at(-1)?.seq ?? 0;
    const page = (await gw.api('get', `/v1/events/recent?since=${since}&limit=1000`)).body.items;
    if (page.length === 0) return events;
    events.push(...page);
  }
}

/** Checks one run of the tour, step by step; answers the ids it made. */
async function checkTour(stdout: string): Promise<{ vm: string; db: string; images: Line[] }> {
  assert.ok(!/^null$/m.test(stdout), `a step printed null\n${stdout}`);
  const r = new Reader(jsonLines(stdout), stdout);
  // 1. providers, flavors, images
  assert.deepEqual(r.next('sim-east'), { id: 'sim-east', type: 'sim', health: 'up' }, stdout);
  assert.deepEqual(r.next('sim-west'), { id: 'sim-west', type: 'sim', health: 'up' }, stdout);
  const flavors = r.while((l) => 'vcpus' in l);
  assert.ok(flavors.length >= 2, stdout);
  assert.deepEqual(
    flavors.find((f) => f.id === 'sim-east:sim.small'),
    { id: 'sim-east:sim.small', vcpus: 1, memoryMiB: 1024 },
    stdout,
  );
  const images = r.while((l) => 'name' in l && String(l.id).startsWith('sim-east:img-'));
  assert.deepEqual(
    images.find((i) => i.id === 'sim-east:img-ubuntu-22-04'),
    { id: 'sim-east:img-ubuntu-22-04', name: 'ubuntu-22.04', state: 'available' },
    stdout,
  );
  assert.ok(!images.some((i) => i.name === 'web-1-backup'), `a run leaves no backup image behind\n${stdout}`);
  // 2. and 3. two creates, then the list by tag with its freshness block
  const vm = String(r.op('instance.create').result.resourceId);
  assert.match(vm, /^sim-east:i-[0-9a-f]{17}$/);
  const db = String(r.op('instance.create').result.resourceId);
  assert.match(db, /^sim-west:i-[0-9a-f]{17}$/);
  const listed = [r.next('web-1 in the list'), r.next('db-1 in the list')];
  assert.deepEqual(
    listed.sort((a, b) => String(a.name).localeCompare(String(b.name))),
    [
      { id: db, name: 'db-1', state: 'running' },
      { id: vm, name: 'web-1', state: 'running' },
    ],
    stdout,
  );
  const providers = r.next<Array<{ id: string; status: string; observedAt: string }>>('the providers block');
  assert.ok(Array.isArray(providers), `the list's providers block follows its items\n${stdout}`);
  assert.deepEqual(
    providers.map((p) => [p.id, p.status]),
    [
      ['sim-east', 'fresh'],
      ['sim-west', 'fresh'],
    ],
  );
  assert.ok(
    providers.every((p) => !Number.isNaN(Date.parse(p.observedAt))),
    stdout,
  );
  // 4. and 5. snapshot, stop, terminate
  const img = String(r.op('instance.snapshot').result.resourceId);
  assert.match(img, /^sim-east:img-[0-9a-f]{17}$/);
  assert.equal(r.op('instance.stop').result.resourceId, vm);
  assert.equal(r.op('instance.delete').result.resourceId, vm);
  assert.deepEqual(r.next('the terminated VM'), { id: vm, state: 'terminated' }, stdout);
  // 6. clean up
  assert.equal(r.op('instance.delete').result.resourceId, db);
  assert.equal(r.op('image.delete').result.resourceId, img);
  // 7. the five latest events: the last five logged when the tour read them, ending after its last operation
  const shown = r.while((l) => 'seq' in l) as unknown as Array<{ seq: number; type: string; subject: string }>;
  r.end();
  assert.equal(shown.length, 5, stdout);
  const lastOp = (await gw.api('get', '/v1/operations?kind=image.delete&limit=1')).body.items[0] as Operation;
  const logged = await allEvents();
  const finished = logged.find((e) => e.type === 'operation.succeeded' && e.subject === lastOp.id);
  assert.ok(finished, 'the cleanup operation has its event');
  const lastShown = shown.at(-1)?.seq ?? 0;
  assert.ok(lastShown >= finished.seq, `the events shown are the latest ones (${lastShown} < ${finished.seq})\n${stdout}`);
  assert.deepEqual(
    shown,
    logged
      .filter((e) => e.seq <= lastShown)
      .slice(-5)
      .map(({ seq, type, subject }) => ({ seq, type, subject })),
  );
  return { vm, db, images };
}

describe('the README tour with curl', () => {
  it('runs twice in a row, each run printing what the README promises and leaving nothing behind', async () => {
    const tour = await readmeBlock('tour');
    const runs = [];
    for (let i = 1; i <= 2; i++) {
      const res = await run(tour);
      assert.equal(res.code, 0, `run ${i} failed\n${res.stderr}\n${res.stdout}`);
      runs.push(await checkTour(res.stdout));
    }
    const [first, second] = runs as [Awaited<ReturnType<typeof checkTour>>, Awaited<ReturnType<typeof checkTour>>];
    assert.notEqual(second.vm, first.vm, 'the second run made its own VM (a fresh Idempotency-Key)');
    assert.deepEqual(second.images, first.images, 'the first run cleaned up its image');
    const left = (await gw.api('get', '/v1/instances?tag=app=tour&state=running&fresh=true')).body.items;
    assert.deepEqual(left, [], 'the tour leaves no instance running');
  });

  it("answers the error example as the README shows it (the '…' elide)", async () => {
    const block = await readmeBlock('tour-errors');
    const [command, ...shown] = block.trim().split('\n');
    assert.ok(command && shown.length > 0, 'the example shows its answer as comments');
    const expected = shown.map((l) => l.replace(/^#\s?\s?/, '')).join('');
    const pattern = new RegExp(
      `^${expected
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    const res = await run(block);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout.trim(), pattern);
    const problem = JSON.parse(res.stdout) as { status: number; field: string };
    assert.equal(problem.status, 400);
    assert.equal(problem.field, 'body.flavorId');
  });

  it('wait_op stops with the reason on an answer that is no operation, and on a failed operation', async () => {
    const started = Date.now();
    const missing = await run('wait_op "$(api "$SKYGATE/v1/operations/op-missing")"');
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /^no operation to wait for: .*"status":404.*"code":"not_found"/m);
    const failed = await run(
      `wait_op '{"id":"op-x","kind":"instance.create","status":"failed","error":{"code":"quota_exceeded"}}'`,
    );
    assert.equal(failed.code, 1, failed.stderr);
    assert.deepEqual(JSON.parse(failed.stderr), {
      kind: 'instance.create',
      status: 'failed',
      error: { code: 'quota_exceeded' },
    });
    assert.ok(Date.now() - started < 20_000, 'neither waited');
  });
});

describe('the README portability block', () => {
  it('runs twice in a row: export, inspect, import, replicate, clean up; the OVA it leaves is git-ignored', async () => {
    const block = await readmeBlock('portability-tour');
    for (let i = 1; i <= 2; i++) {
      const res = await run(block);
      assert.equal(res.code, 0, `run ${i} failed\n${res.stderr}\n${res.stdout}`);
      const lines = res.stdout.trim().split('\n');
      const ops = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as OpLine);
      assert.deepEqual(
        ops.map((o) => [o.kind, o.status]),
        [
          ['image.export', 'succeeded'],
          ['image.import', 'succeeded'],
          ['image.replicate', 'succeeded'],
          ['image.delete', 'succeeded'],
          ['image.delete', 'succeeded'],
        ],
        res.stdout,
      );
      const [, imported, replicated, deleted1, deleted2] = ops as [OpLine, OpLine, OpLine, OpLine, OpLine];
      assert.match(String(imported.result.resourceId), /^sim-west:img-/);
      assert.equal(replicated.result.replicas?.[0]?.provider, 'sim-west');
      assert.deepEqual(
        [deleted1.result.resourceId, deleted2.result.resourceId],
        [imported.result.resourceId, replicated.result.replicas?.[0]?.imageId],
      );
      // `skygate ova inspect` on the downloaded package.
      assert.ok(lines.includes('ubuntu.ova: OVF 1.0 package (manifest: sha256)'), res.stdout);
      assert.ok(
        lines.some((l) => /^\s+1 vCPU, 1024 MiB memory/.test(l)),
        res.stdout,
      );
    }
    const west = (await gw.api('get', '/v1/images?provider=sim-west&fresh=true')).body.items as Array<{ name: string }>;
    assert.ok(!west.some((i) => i.name === 'ubuntu-from-ova'), 'the imported image was cleaned up');
    const ignored = await promisify(execFile)('git', ['check-ignore', 'ubuntu.ova'], { cwd: REPO }).then(
      () => true,
      () => false,
    );
    assert.ok(ignored, 'an ubuntu.ova left in a checkout is git-ignored');
  });
});
