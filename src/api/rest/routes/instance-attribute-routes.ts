/** Instance attributes (termination protection, shutdown behaviour, user data...) kept by the core for every front. */
import type { Router } from 'express';
import type { InstanceAttributes } from '../../../core/index.js';
import type { CoreServices } from '../../../core/services/index.js';
import { DEFAULT_INSTANCE_ATTRIBUTES, type ModifiableAttributes } from '../../../core/services/instance-attributes.js';
import { caller, route } from '../http.js';
import { reply, type Schema } from '../schemas.js';
import { inRestTerms } from './rest-terms.js';

const MODIFIABLE = ['disableApiTermination', 'instanceInitiatedShutdownBehavior', 'sourceDestCheck', 'ebsOptimized', 'userData'];
// The core names attributes bare; here they sit in the body.
const FIELDS = Object.fromEntries(MODIFIABLE.map((name) => [name, `body.${name}`]));

/** User data never appears here, only whether there is some: reading it is for operators (its own endpoint). */
function render(instanceId: string, set: InstanceAttributes): Schema<'InstanceAttributes'> {
  const a = { ...DEFAULT_INSTANCE_ATTRIBUTES, ...set };
  return {
    instanceId,
    disableApiTermination: a.disableApiTermination,
    instanceInitiatedShutdownBehavior: a.instanceInitiatedShutdownBehavior,
    sourceDestCheck: a.sourceDestCheck,
    ebsOptimized: a.ebsOptimized,
    hasUserData: Boolean(a.userData),
    ...(a.keyName !== undefined && { keyName: a.keyName }),
    ...(a.securityGroups !== undefined && { securityGroups: a.securityGroups }),
  };
}

/** The exact bytes always, and the text too when it is UTF-8 (a gzip'd cloud-init is not). */
function renderUserData(instanceId: string, base64: string | undefined): Schema<'InstanceUserData'> {
  if (!base64) return { instanceId };
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(base64, 'base64'));
    return { instanceId, userData: text, userDataBase64: base64 };
  } catch {
    return { instanceId, userDataBase64: base64 };
  }
}

export function instanceAttributeRoutes(router: Router, core: CoreServices): void {
  const id = (req: { params: Record<string, unknown> }) => String(req.params.id);

  router.get(
    '/instances/:id/attributes',
    route(async (req, res) =>
      reply(res, 200, 'InstanceAttributes', render(id(req), await core.resources.instanceAttributes(id(req)))),
    ),
  );
  router.patch(
    '/instances/:id/attributes',
    route(async (req, res) => {
      const { userData, ...rest } = req.body as Schema<'UpdateInstanceAttributesRequest'>;
      // Text here, as at launch; the core keeps user data base64 (EC2's form), which carries any bytes.
      const patch: ModifiableAttributes = {
        ...rest,
        ...(userData !== undefined && { userData: Buffer.from(userData, 'utf8').toString('base64') }),
      };
      const set = await inRestTerms(FIELDS, () => core.resources.modifyInstanceAttributes(id(req), patch, caller(req, res)));
      reply(res, 200, 'InstanceAttributes', render(id(req), set));
    }),
  );
  router.get(
    '/instances/:id/attributes/user-data',
    route(async (req, res) => {
      const { userData } = await core.resources.instanceAttributes(id(req));
      res.set('Cache-Control', 'no-store');
      reply(res, 200, 'InstanceUserData', renderUserData(id(req), userData));
    }),
  );
}
