/** The mutating side: every call a provider finishes later answers 202 with an Operation. */
import type { Router } from 'express';
import type { Tags } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import type { CreateVolumeInput } from '../../../core/services/resource-service.js';
import type { LaunchRequest } from '../../../core/services/launch-service.js';
import { caller, route, sendAccepted } from '../http.js';
import type { Schema } from '../schemas.js';

/** The REST body of a launch: `count` instances, all or none. */
function launchRequest(body: Schema<'CreateInstanceRequest'>): LaunchRequest {
  const { count, disableApiTermination, ...rest } = body as Schema<'CreateInstanceRequest'> & {
    count?: number;
    disableApiTermination?: boolean;
  };
  return {
    ...rest,
    minCount: count ?? 1,
    maxCount: count ?? 1,
    ...(disableApiTermination !== undefined && { attributes: { disableApiTermination } }),
  };
}

export function mutationRoutes(router: Router, core: CoreServices): void {
  const { resources, launches } = core;
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);

  router.post(
    '/instances',
    route(async (req, res) =>
      sendAccepted(res, await launches.launch(launchRequest(req.body as Schema<'CreateInstanceRequest'>), caller(req, res))),
    ),
  );
  router.delete(
    '/instances/:id',
    route(async (req, res) => sendAccepted(res, await resources.instanceAction(id(req), 'delete', caller(req, res)))),
  );
  for (const action of ['start', 'stop', 'reboot', 'suspend'] as const) {
    router.post(
      `/instances/:id/${action}`,
      route(async (req, res) => sendAccepted(res, await resources.instanceAction(id(req), action, caller(req, res)))),
    );
  }
  router.post(
    '/instances/:id/snapshot',
    route(async (req, res) =>
      sendAccepted(res, await resources.snapshotInstance(id(req), req.body as { name: string; tags?: Tags }, caller(req, res))),
    ),
  );
  router.delete(
    '/images/:id',
    route(async (req, res) => sendAccepted(res, await resources.deleteImage(id(req), caller(req, res)))),
  );

  router.post(
    '/volumes',
    route(async (req, res) => sendAccepted(res, await resources.createVolume(req.body as CreateVolumeInput, caller(req, res)))),
  );
  router.post(
    '/volumes/:id/attach',
    route(async (req, res) =>
      sendAccepted(
        res,
        await resources.attachVolume(id(req), req.body as { instanceId: string; device?: string }, caller(req, res)),
      ),
    ),
  );
  router.post(
    '/volumes/:id/detach',
    route(async (req, res) => sendAccepted(res, await resources.volumeAction(id(req), 'detach', caller(req, res)))),
  );
  router.delete(
    '/volumes/:id',
    route(async (req, res) => sendAccepted(res, await resources.volumeAction(id(req), 'delete', caller(req, res)))),
  );

  router.post(
    '/snapshots',
    route(async (req, res) =>
      sendAccepted(
        res,
        await resources.createSnapshot(req.body as { volumeId: string; name: string; tags?: Tags }, caller(req, res)),
      ),
    ),
  );
  router.delete(
    '/snapshots/:id',
    route(async (req, res) => sendAccepted(res, await resources.deleteSnapshot(id(req), caller(req, res)))),
  );
}
