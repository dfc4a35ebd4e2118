/**
 * The workload host: one child process per sim provider, serving every workload instance of that provider, each on
 * its own loopback address. A process apart from the gateway so that killing it is a real fault (the data plane dies,
 * the control plane still says "running"), and so that workload traffic does not share the gateway's event loop.
 */
import { createServer, type Server } from 'node:http';
import { KvLog } from './kv-log.js';
import { handleWorkloadRequest } from './workload-app.js';
import type { HostReply, ServedInstance, SyncRequest } from './workload-protocol.js';

interface Serving {
  me: ServedInstance;
  server: Server;
  kv: KvLog;
}

const serving = new Map<string, Serving>();
let queue: Promise<void> = Promise.resolve();

const send = (reply: HostReply): void => {
  process.send?.(reply);
};

// One sync at a time, in the order the adapter sent them: each converges on the whole desired set.
process.on('message', (message: SyncRequest) => {
  if (message?.kind !== 'sync') return;
  queue = queue.then(() => sync(message));
});
// The adapter is gone (closed, or its process died): nobody is left to say what to serve.
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready' });

async function sync(request: SyncRequest): Promise<void> {
  const wanted = new Map(request.instances.map((i) => [i.instanceId, i]));
  for (const [id, s] of serving) {
    const next = wanted.get(id);
    if (next === undefined || !sameServing(next, s.me)) await stop(id);
  }
  const failed: Array<{ instanceId: string; error: string }> = [];
  for (const me of wanted.values()) {
    if (serving.has(me.instanceId)) continue;
    try {
      await start(me);
    } catch (e) {
      failed.push({ instanceId: me.instanceId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  send({ kind: 'synced', seq: request.seq, serving: [...serving.keys()], failed });
}

async function start(me: ServedInstance): Promise<void> {
  const kv = KvLog.open(me.disk);
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => handleWorkloadRequest(me, kv, req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(me.port, me.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    kv.close();
    throw e;
  }
  serving.set(me.instanceId, { me, server, kv });
}

/** Stops listening and cuts every open connection, keep-alive ones included: a stopped instance answers nobody. */
async function stop(id: string): Promise<void> {
  const s = serving.get(id);
  if (s === undefined) return;
  serving.delete(id);
  await new Promise<void>((resolve) => {
    s.server.close(() => resolve());
    s.server.closeAllConnections();
  });
  // Only now: no request is left that could still write to the log.
  s.kv.close();
}

function sameServing(a: ServedInstance, b: ServedInstance): boolean {
  return a.address === b.address && a.port === b.port && a.disk === b.disk && a.imageId === b.imageId;
}
