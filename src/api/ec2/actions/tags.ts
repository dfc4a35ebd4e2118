/** Tags on existing resources: CreateTags, DeleteTags, DescribeTags. */
import type { TaggableKind, Tags } from '../../../core/index.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error, ec2Errors } from '../ec2-errors.js';
import { filterPredicate, parseFilters } from '../filters.js';
import { type Ec2IdKind, isEc2Id } from '../id-map.js';
import { pageOf, readPaging } from '../paging.js';
import { ALL, readTags, resolveIds } from './common.js';

const TAGGABLE: ReadonlyArray<[TaggableKind, string]> = [
  ['instance', 'i'],
  ['image', 'ami'],
  ['snapshot', 'snap'],
  ['volume', 'vol'],
];
const NETWORK: ReadonlyArray<[Ec2IdKind, string]> = [
  ['vpc', 'vpc'],
  ['subnet', 'subnet'],
  ['security-group', 'sg'],
];

interface TagItem {
  key: string;
  value: string;
  resourceId: string;
  resourceType: TaggableKind;
  skygateId: string;
  /** The resource's tags, so that `tag:KEY` filters work here as elsewhere. */
  tags: Tags;
}

/** Resolves ResourceId.N of any taggable kind, all before anything is changed. */
async function resolveResources(ctx: Ec2Context): Promise<Array<{ kind: TaggableKind; id: string }>> {
  const ec2Ids = ctx.params.list('ResourceId');
  if (ec2Ids.length === 0) throw ec2Errors.missingParameter('ResourceId.1');
  const out: Array<{ kind: TaggableKind; id: string }> = [];
  for (const ec2Id of ec2Ids) {
    const prefix = ec2Id.slice(0, ec2Id.indexOf('-'));
    const taggable = TAGGABLE.find(([, p]) => p === prefix);
    if (taggable && isEc2Id(taggable[0], ec2Id)) {
      const [id] = await resolveIds(ctx, taggable[0], [ec2Id]);
      out.push({ kind: taggable[0], id: id as string });
      continue;
    }
    const network = NETWORK.find(([, p]) => p === prefix);
    if (network && isEc2Id(network[0], ec2Id)) {
      await resolveIds(ctx, network[0], [ec2Id]);
      throw ec2Errors.unsupported(`Tags on ${ec2Id}: skygate synthesizes the default network and keeps no tags on it`);
    }
    throw new Ec2Error('InvalidID', `The ID '${ec2Id}' is not valid`);
  }
  return out;
}

function checkKeys(tags: Array<{ key: string }>): void {
  for (const { key } of tags) {
    if (key.toLowerCase().startsWith('aws:')) {
      throw ec2Errors.invalidValue('Tag.Key', key, "Tag keys starting with 'aws:' are reserved for AWS use.");
    }
  }
}

const createTags = defineAction(['ResourceId', 'Tag'], async (ctx) => {
  const tags = readTags(ctx.params);
  if (tags.length === 0) throw ec2Errors.missingParameter('Tag.1.Key');
  checkKeys(tags);
  const resources = await resolveResources(ctx);
  const set = Object.fromEntries(tags.map((t) => [t.key, t.value ?? '']));
  for (const { kind, id } of resources) await ctx.core.resources.changeTags(kind, id, { set }, ctx.caller);
  return { return: true };
});

const deleteTags = defineAction(['ResourceId', 'Tag'], async (ctx) => {
  const tags = readTags(ctx.params);
  checkKeys(tags);
  const resources = await resolveResources(ctx);
  for (const { kind, id } of resources) {
    // Without Tag.N, EC2 deletes every tag of the resource.
    const remove = tags.length > 0 ? tags : Object.keys((await ctx.core.inventory.get(kind, id)).tags).map((key) => ({ key }));
    await ctx.core.resources.changeTags(kind, id, { remove }, ctx.caller);
  }
  return { return: true };
});

const describeTags = defineAction(['Filter', 'MaxResults', 'NextToken'], async (ctx) => {
  const paging = readPaging(ctx);
  const predicate = filterPredicate<TagItem>(parseFilters(ctx.params), {
    'resource-id': (t) => t.resourceId,
    'resource-type': (t) => t.resourceType,
    key: (t) => t.key,
    value: (t) => t.value,
  });
  const items: TagItem[] = [];
  for (const [kind] of TAGGABLE) {
    const listing = await ctx.core.inventory.list(kind, { providers: [ctx.region], limit: ALL });
    for (const r of listing.items) {
      const tags = (r as { tags: Tags }).tags;
      // Peeked, not recorded: only the ids of the page answered need to be resolvable later.
      const resourceId = ctx.ids.peek(kind, r.id);
      for (const key of Object.keys(tags).sort()) {
        const item: TagItem = { key, value: tags[key] as string, resourceId, resourceType: kind, skygateId: r.id, tags };
        if (!predicate || predicate(item)) items.push(item);
      }
    }
  }
  const page = pageOf(ctx, items, paging);
  return {
    tagSet: page.items.map(({ key, value, resourceType, skygateId }) => ({
      resourceId: ctx.ids.toEc2(resourceType, skygateId),
      resourceType,
      key,
      value,
    })),
    nextToken: page.nextToken,
  };
});

export const tagActions: ActionTable = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
