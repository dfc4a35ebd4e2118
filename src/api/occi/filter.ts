/**
 * GFD.223 collection filtering: the categories a GET names (as `Category` headers, or `?category=scheme#term`)
 * select the computes that carry them: a provider mixin selects its provider, an os_tpl or resource_tpl its
 * image or flavor, a user mixin its tag.
 */
import type { Request } from 'express';
import type { CoreServices } from '../../core/index.js';
import { idOf, KINDS, TAG_SCHEME } from './categories.js';
import { categoryId } from './check.js';
import { badRequest } from './errors.js';
import { type ParsedCategory, parseTextHeaders } from './parse.js';
import { resolveMixins } from './query-model.js';

type ListQuery = Parameters<CoreServices['inventory']['list']>[1];
export type ComputeFilter = Pick<ListQuery, 'providers' | 'tags' | 'where'>;

function queryCategories(req: Request): ParsedCategory[] {
  const raw = req.query.category;
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return values.map((v) => {
    const s = String(v);
    const at = s.indexOf('#') + 1;
    if (at === 0 || at === s.length) throw badRequest(`query category: '${s}' is not a category identifier (scheme#term)`);
    const scheme = s.slice(0, at);
    const term = s.slice(at);
    return { scheme, term, class: scheme === KINDS.compute.scheme && term === 'compute' ? 'kind' : 'mixin' };
  });
}

export async function computeFilter(core: CoreServices, req: Request): Promise<ComputeFilter> {
  const categories = [...parseTextHeaders(req.headers).categories, ...queryCategories(req)];
  const tags = typeof req.params.term === 'string' ? [{ key: req.params.term }] : [];
  const mixins: ParsedCategory[] = [];
  for (const c of categories) {
    if (c.class === 'action') throw badRequest(`category ${categoryId(c)}: a collection is not filtered by action`);
    if (c.class === 'kind' && categoryId(c) !== idOf(KINDS.compute)) {
      throw badRequest(`kind ${categoryId(c)}: not the kind of this collection (${idOf(KINDS.compute)})`);
    }
    if (c.class === 'mixin' && c.scheme === TAG_SCHEME) tags.push({ key: c.term });
    else if (c.class === 'mixin') mixins.push(c);
  }
  const t = await resolveMixins(core, mixins);
  if (t.extras.length > 0)
    throw badRequest(`mixin ${idOf(t.extras[0] as { scheme: string; term: string })}: computes are not filtered by it`);
  const image = t.image?.id;
  const flavor = t.flavor?.id;
  return {
    ...(t.provider !== undefined && { providers: [t.provider] }),
    ...(tags.length > 0 && { tags }),
    ...((image !== undefined || flavor !== undefined) && {
      where: (r) => {
        const i = r as { imageId?: string; flavorId?: string };
        return (image === undefined || i.imageId === image) && (flavor === undefined || i.flavorId === flavor);
      },
    }),
  };
}
