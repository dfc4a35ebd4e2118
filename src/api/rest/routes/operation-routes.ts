/** Operations (what the gateway is doing or did) and the event stream (SSE) the dashboard follows. */
import type { Router } from 'express';
import type { OperationStatus } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { principal, renderOperation, route, splitList, validated } from '../http.js';
import { reply } from '../schemas.js';

export function operationRoutes(router: Router, core: CoreServices): void {
  router.get(
    '/operations',
    route(async (_req, res) => {
      const q = validated(res).query;
      const page = await core.operations.page({
        status: splitList(q.status) as OperationStatus[] | undefined,
        kind: q.kind as string | undefined,
        provider: q.provider as string | undefined,
        limit: (q.limit as number | undefined) ?? 100,
        cursor: q.cursor as string | undefined,
      });
      const { role } = principal(res);
      reply(res, 200, 'OperationPage', {
        items: page.items.map((op) => renderOperation(op, role)),
        ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
      });
    }),
  );
  router.get(
    '/operations/:id',
    route(async (req, res) => {
      const op = await core.operations.get(String(req.params.id));
      reply(res, 200, 'Operation', renderOperation(op, principal(res).role));
    }),
  );

  router.get(
    '/events/recent',
    route(async (_req, res) => {
      const q = validated(res).query;
      const items = await core.events.since((q.since as number | undefined) ?? 0, (q.limit as number | undefined) ?? 100);
      reply(res, 200, 'EventList', { items });
    }),
  );
  router.get(
    '/events',
    route(async (req, res) => {
      const q = validated(res).query;
      const since = Number(req.get('last-event-id') ?? q.since ?? 0) || 0;
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      let last = since;
      // Sends each event once, in order, whether it comes from the replay or the live feed.
      const send = (e: { seq: number; type: string }) => {
        if (e.seq <= last) return;
        last = e.seq;
        res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      // Subscribe before replaying so nothing falls between the replay and the live feed.
      const buffered: Array<{ seq: number; type: string }> = [];
      let replaying = true;
      const unsubscribe = core.events.subscribe((e) => (replaying ? buffered.push(e) : send(e)));
      for (const e of await core.events.since(since, 1000)) send(e);
      replaying = false;
      for (const e of buffered) send(e);
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
      });
    }),
  );
}
