/** What every EC2 action handler is given, and how an action declares itself. */
import type { Principal } from '../../core/index.js';
import type { CoreServices } from '../../core/services/index.js';
import type { CallerContext } from '../../core/services/resource-service.js';
import type { IdMap } from './id-map.js';
import type { Ec2Params } from './query-parser.js';
import type { FragmentCache, KeptAnswers, XmlObject } from './xml-render.js';

export interface Ec2Context {
  core: CoreServices;
  params: Ec2Params;
  action: string;
  /** The provider the request's credential scope names (EC2's region). */
  region: string;
  principal: Principal;
  caller: CallerContext;
  ids: IdMap;
  requestId: string;
  /** This front's URL (`http://host:port/ec2`), for DescribeRegions. */
  endpoint: string;
  /** Identifies the query apart from its paging, so a NextToken cannot be replayed on another one. */
  queryKey(): string;
  /** The same, paging included: what identifies one page of one query. */
  requestKey(): string;
  /** Rendered resources kept between requests. */
  fragments: FragmentCache;
  /** Rendered pages of listings kept between requests (DescribeInstances, polled by tools and dashboards). */
  pages: FragmentCache;
  /** Whole answers of listings (DescribeInstances pages) kept until anything they show changes. */
  answers: KeptAnswers;
}

export interface ActionDef {
  /** Top-level parameters the action takes besides Action, Version and DryRun; any other is refused. */
  params: ReadonlySet<string>;
  /** EC2 parameters of this action that skygate cannot honour: refused as UnsupportedOperation, not as unknown. */
  unsupported: ReadonlySet<string>;
  run(ctx: Ec2Context): Promise<XmlObject>;
}

export type ActionTable = Record<string, ActionDef>;

export const defineAction = (
  params: readonly string[],
  run: ActionDef['run'],
  unsupported: readonly string[] = [],
): ActionDef => ({
  params: new Set(params),
  unsupported: new Set(unsupported),
  run,
});
