/** GFD.223's PUT and partial update of a resource, read and checked once for every kind: one core change out. */
import type { Request } from 'express';
import { checkName, checkTags, type TagChange, type Tags } from '../../core/index.js';
import { type AttributeDef, type Category, TAG_SCHEME } from './categories.js';
import { categoryId, checkAttributes, kindOf, str } from './check.js';
import { type AttributeValue, type OcciResource, SUMMARY_TAG, tagMixins } from './entities.js';
import { badRequest } from './errors.js';
import type { Negotiated } from './http.js';
import { type OcciRequest, parseRequest } from './parse.js';

/** What an update asks of the core: a new name and one tag change, each absent when nothing changes. */
export interface ResourceUpdate {
  name?: string;
  tags?: TagChange;
}

export interface UpdateTarget {
  /** The resource's kind (`compute`, `storage`), which the request may name. */
  kind: Category;
  /** The attributes an update may name (the kind's and the provider mixins'). */
  defs: Record<string, AttributeDef>;
  /** The entity as it is now: immutable attributes and its own mixins may be repeated at these values. */
  now: OcciResource;
  /** The resource's tags now (user mixins and the summary live there). */
  tags: Tags;
  /** Why an immutable attribute cannot change, where there is more to say than "immutable" (storage size). */
  reasons?: Record<string, string>;
}

/** A location as a path: clients send back the locations they read, relative or absolute. */
export const locationPath = (location: string) => location.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i, '');

/** The request body of a PUT or POST-without-action, in the negotiated rendering. */
export const readBody = (req: Request, n: Negotiated): OcciRequest =>
  parseRequest(n.input, typeof req.body === 'string' ? req.body : '', req.headers);

/**
 * Reads an update of `target` (PUT when `put`: the request names the whole entity) and checks all of it before
 * anything changes. `occi.core.title` is the name; `occi.core.summary` and the user mixins are tags (a user
 * mixin already carried keeps its tag's value, set through REST or EC2); PUT removes the user mixins and summary
 * it leaves out. Immutable attributes and the entity's own mixins may be repeated as they are; another value is
 * a 400 naming it. Only what differs goes to the core (a PUT usually sends back most of what it read).
 */
export function readUpdate(body: OcciRequest, put: boolean, target: UpdateTarget): ResourceUpdate {
  const { now, tags } = target;
  kindOf(body, target.kind, false);
  const action = body.categories.find((c) => c.class === 'action');
  if (action) throw badRequest(`action ${categoryId(action)}: an update names no action (POST ${now.location}?action=...)`);
  refuseNewLinks(body, now);
  refuseChanges(body.attributes, now.attributes, target.reasons ?? {});
  checkAttributes(body.attributes, target.defs, 'update', ['occi.core.id'], now.attributes);
  const what = target.kind.term;
  const terms = userMixinTerms(
    body.categories.filter((c) => c.class === 'mixin'),
    now.mixins,
    what,
  );
  const title = str(body.attributes['occi.core.title']);
  const summary = str(body.attributes['occi.core.summary']);
  if (title !== undefined) checkName(title, 'attribute occi.core.title');
  if (summary !== undefined) checkTags({ [SUMMARY_TAG]: summary }, 'attribute occi.core.summary');

  const set: Tags = Object.fromEntries(terms.filter((t) => !(t in tags)).map((t) => [t, '']));
  if (summary !== undefined && tags[SUMMARY_TAG] !== summary) set[SUMMARY_TAG] = summary;
  const remove = put
    ? [
        ...tagMixins(tags)
          .map((m) => m.slice(TAG_SCHEME.length))
          .filter((t) => !terms.includes(t)),
        ...(summary === undefined && SUMMARY_TAG in tags ? [SUMMARY_TAG] : []),
      ].map((key) => ({ key }))
    : [];
  return {
    ...(title !== undefined && title !== now.title && { name: title }),
    ...((Object.keys(set).length > 0 || remove.length > 0) && { tags: { set, remove } }),
  };
}

/**
 * Attributes that are fixed for a reason worth saying may be repeated at their current value; another value
 * (or one the entity does not have) is a 400 naming the attribute, its value now and why.
 */
export function refuseChanges(
  attributes: Record<string, AttributeValue>,
  current: Record<string, AttributeValue>,
  reasons: Record<string, string>,
): void {
  for (const [name, why] of Object.entries(reasons)) {
    const v = attributes[name];
    if (v === undefined || v === current[name]) continue;
    const now = current[name] === undefined ? 'it has none' : `it is ${JSON.stringify(current[name])}`;
    throw badRequest(`attribute ${name}: cannot change (${now}): ${why}`);
  }
}

/**
 * An update may carry the entity's links back as it read them (a client PUTs the whole rendering); a link to
 * anything else would be a new link, which is made in its own collection (POST /storagelink/ attaches a storage)
 * or, for a compute's network, only at its create.
 */
function refuseNewLinks(body: OcciRequest, now: OcciResource): void {
  for (const link of body.links) {
    const target = locationPath(link.target);
    if (now.links.some((l) => l.target.location === target)) continue;
    const have = now.links.map((l) => l.target.location).join(', ') || 'none';
    throw badRequest(
      `${link.where}: an update does not add or move links (${now.location} links to ${have}); POST /storagelink/ attaches a storage, and a compute's network is chosen at its create`,
    );
  }
}

/**
 * The user mixins an update names, as tag keys. The entity's own templates and provider mixin may be repeated
 * (a PUT sends them back); naming another is changing what the entity is made of, which is immutable.
 */
function userMixinTerms(mixins: Array<{ scheme: string; term: string }>, own: string[], what: string): string[] {
  const terms: string[] = [];
  for (const m of mixins) {
    const id = categoryId(m);
    if (m.scheme === TAG_SCHEME) terms.push(m.term);
    else if (own.includes(id)) continue;
    else {
      const kind = TEMPLATE_KINDS.find((k) => m.scheme.endsWith(k.suffix));
      const same = kind && own.find((o) => o.slice(0, o.indexOf('#') + 1).endsWith(kind.suffix));
      if (kind !== undefined && same !== undefined) {
        throw badRequest(`mixin ${id}: the ${kind.name} of a ${what} is immutable (it is ${same}); create a new ${what} instead`);
      }
      throw badRequest(`mixin ${id}: only user mixins (scheme ${TAG_SCHEME}) can be added to a ${what}`);
    }
  }
  return terms;
}

/** What a skygate template or provider mixin decides, by the end of its scheme. */
const TEMPLATE_KINDS = [
  { suffix: '/os_tpl#', name: 'os_tpl' },
  { suffix: '/resource_tpl#', name: 'resource_tpl' },
  { suffix: '/provider#', name: 'provider' },
];
