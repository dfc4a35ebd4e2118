/** Reads `POST <entity>?action=<term>`: the action must be one of the kind's, and the body must name it. */
import type { Request } from 'express';
import { type Category, idOf } from './categories.js';
import { categoryId, checkAttributes } from './check.js';
import type { AttributeValue } from './entities.js';
import { badRequest } from './errors.js';
import { type Negotiated, queryOf } from './http.js';
import { parseRequest } from './parse.js';

export interface ActionRequest<A extends string> {
  action: A;
  attributes: Record<string, AttributeValue>;
}

export function readAction<A extends string>(req: Request, n: Negotiated, actions: Record<A, Category>): ActionRequest<A> {
  const action = queryOf(req).action;
  if (typeof action !== 'string' || !Object.hasOwn(actions, action)) {
    throw badRequest(`action '${String(action)}': not an action of ${req.path} (${Object.keys(actions).join(', ')})`);
  }
  const def = actions[action as A];
  const body = parseRequest(n.input, typeof req.body === 'string' ? req.body : '', req.headers);
  const named = body.categories.filter((c) => c.class === 'action');
  if (named.length !== 1 || categoryId(named[0] as { scheme: string; term: string }) !== idOf(def)) {
    throw badRequest(
      `the body must name the action ${idOf(def)} (as Category ${def.term};scheme="${def.scheme}";class="action")`,
    );
  }
  checkAttributes(body.attributes, def.attributes ?? {}, 'update', []);
  return { action: action as A, attributes: body.attributes };
}
