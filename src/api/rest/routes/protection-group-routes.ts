/** Protection groups (HA) over REST: create, read, change and delete a group, its replicas, and the moves. */
import type { Router } from 'express';
import type { CoreServices } from '../../../core/services/index.js';
import type { ProtectionGroup } from '../../../ha/protection-group.js';
import { caller, route, sendAccepted, validated } from '../http.js';
import { reply, type Schema } from '../schemas.js';
import { inBodyTerms } from './rest-terms.js';

const BASE = '/protection-groups';

/** The group as the spec shows it (the core's type and the schema agree field for field; replicas always computed). */
const render = (g: ProtectionGroup): Schema<'ProtectionGroup'> => ({ ...g, replicas: g.replicas ?? {} });

export function protectionGroupRoutes(router: Router, core: CoreServices): void {
  const { protection } = core;
  const groupId = (req: { params: Record<string, unknown> }) => String(req.params.groupId);

  router.get(
    BASE,
    route(async (_req, res) => {
      const q = validated(res).query;
      const page = await protection.list({ limit: q.limit as number, cursor: q.cursor as string | undefined });
      reply(res, 200, 'ProtectionGroupPage', {
        items: page.items.map(render),
        ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
      });
    }),
  );
  router.post(
    BASE,
    route(async (req, res) => {
      const group = await inBodyTerms(() => protection.create(req.body, caller(req, res)));
      res.location(`/v1${BASE}/${group.id}`);
      reply(res, 201, 'ProtectionGroup', render(group));
    }),
  );
  router.get(
    `${BASE}/:groupId`,
    route(async (req, res) => reply(res, 200, 'ProtectionGroup', render(await protection.get(groupId(req))))),
  );
  router.patch(
    `${BASE}/:groupId`,
    route(async (req, res) => {
      const group = await inBodyTerms(() => protection.update(groupId(req), req.body, caller(req, res)));
      reply(res, 200, 'ProtectionGroup', render(group));
    }),
  );
  router.delete(
    `${BASE}/:groupId`,
    route(async (req, res) => {
      await protection.delete(groupId(req), caller(req, res));
      res.status(204).end();
    }),
  );
  router.get(
    `${BASE}/:groupId/replicas`,
    route(async (req, res) => {
      const q = validated(res).query;
      const filter = {
        ...(q.site !== undefined && { site: String(q.site) }),
        ...(q.member !== undefined && { member: String(q.member) }),
      };
      reply(res, 200, 'ReplicaList', { items: await protection.listReplicas(groupId(req), filter) });
    }),
  );
  router.get(
    `${BASE}/:groupId/health`,
    route(async (req, res) => reply(res, 200, 'ProtectionGroupHealth', await protection.health(groupId(req)))),
  );
  router.post(
    `${BASE}/:groupId/failover`,
    route(async (req, res) => {
      const body = (req.body ?? {}) as Schema<'FailoverRequest'>;
      sendAccepted(res, await inBodyTerms(() => protection.failover(groupId(req), body, caller(req, res))));
    }),
  );
  router.post(
    `${BASE}/:groupId/switchover`,
    route(async (req, res) => {
      const body = req.body as Schema<'SwitchoverRequest'>;
      sendAccepted(res, await inBodyTerms(() => protection.switchover(groupId(req), body, caller(req, res))));
    }),
  );
  router.post(
    `${BASE}/:groupId/replicate`,
    route(async (req, res) => sendAccepted(res, await protection.replicate(groupId(req), caller(req, res)))),
  );
}
