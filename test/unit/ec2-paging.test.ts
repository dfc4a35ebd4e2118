/**
 * EC2 Describe paging: the MaxResults table checked against the actions that take MaxResults and against
 * the EC2 service model Debian's awscli installs, and MaxResults/NextToken as one request reads them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ACTIONS } from '../../src/api/ec2/actions/index.js';
import {
  MAX_RESULTS,
  type PagingContext,
  type PagingRule,
  UNPAGED_LIMIT,
  nextToken,
  pageOf,
  readPaging,
} from '../../src/api/ec2/paging.js';
import { Ec2Params } from '../../src/api/ec2/query-parser.js';
import { findEc2Model } from '../helpers/ec2-model.js';
import { codeOf } from '../helpers/ec2-errors-of.js';

/** A request of `action` with `query`, whose query key is `key` (the front derives it from the query). */
const request = (action: string, query: string, key = 'q1'): PagingContext => ({
  action,
  params: Ec2Params.parse(new URLSearchParams(query)),
  queryKey: () => key,
});

const rows = MAX_RESULTS as Record<string, PagingRule>;

describe('the MaxResults table', () => {
  it('has a row for exactly the actions that take MaxResults', () => {
    const paged = Object.entries(ACTIONS)
      .filter(([, def]) => def.params.has('MaxResults'))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(Object.keys(MAX_RESULTS).sort(), paged);
  });

  it("agrees with the EC2 service model's ranges and its documented clamping", (t) => {
    const file = findEc2Model();
    if (!file) {
      t.skip("no EC2 service model: install Debian's awscli (scripts/test.sh does)");
      return;
    }
    const model = JSON.parse(readFileSync(file, 'utf8')) as {
      operations: Record<string, { input?: { shape: string } }>;
      shapes: Record<string, { members?: Record<string, { shape: string; documentation?: string }>; min?: number; max?: number }>;
    };
    let checked = 0;
    for (const [action, rule] of Object.entries(rows)) {
      const input = model.shapes[model.operations[action]?.input?.shape ?? ''];
      const member = input?.members?.MaxResults;
      assert.ok(member, `${action} takes MaxResults in the model`);
      const shape = model.shapes[member.shape];
      const doc = (member.documentation ?? '').replace(/<[^>]+>/g, '').replaceAll(',', '');
      const stated = /between (\d+) and (\d+)/.exec(doc);
      const range =
        shape?.min !== undefined ? [shape.min, shape.max] : stated ? [Number(stated[1]), Number(stated[2])] : undefined;
      // DescribeImages' MaxResults has neither a stated range nor one on its shape (see MAX_RESULTS).
      if (range) {
        assert.deepEqual([rule.min, rule.max], range, action);
        checked++;
      }
      const clamps = /larger than (\d+),? only \1 results are returned/.test(doc);
      assert.equal(rule.clampAboveMax === true, clamps, `${action}: clamping as documented`);
      const unpagedAll = /(not used|not specified), then (\w+ returns )?all results/.test(doc);
      if (unpagedAll) assert.equal(rule.default, UNPAGED_LIMIT, `${action}: all results without MaxResults`);
    }
    assert.ok(checked >= Object.keys(rows).length - 1, `ranges checked for ${checked} actions`);
  });
});

describe('readPaging', () => {
  it("answers DescribeVolumes' MaxResults=1000 (the AWS CLI's default) with pages of 500", () => {
    const paging = readPaging(request('DescribeVolumes', 'MaxResults=1000'));
    assert.equal(paging.limit, 500);
    assert.equal(paging.paged, true);
    assert.equal(readPaging(request('DescribeSnapshots', 'MaxResults=5000')).limit, 1000);
  });

  it('refuses MaxResults outside the range where EC2 does not clamp, and below the minimum everywhere', () => {
    assert.equal(
      codeOf(() => readPaging(request('DescribeInstances', 'MaxResults=1001'))),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => readPaging(request('DescribeInstanceTypes', 'MaxResults=101'))),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => readPaging(request('DescribeVolumes', 'MaxResults=4'))),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => readPaging(request('DescribeTags', 'MaxResults=x'))),
      'InvalidParameterValue',
    );
    assert.equal(readPaging(request('DescribeInstances', 'MaxResults=1000')).limit, 1000);
  });

  it('answers a request without MaxResults whole, except where EC2 pages anyway', () => {
    const paging = readPaging(request('DescribeVolumes', ''));
    assert.deepEqual(paging, { limit: UNPAGED_LIMIT, offset: 0, paged: false });
    assert.equal(readPaging(request('DescribeInstanceTypes', '')).limit, 100);
  });

  it('continues with its own NextToken and refuses one issued for another query', () => {
    const first = request('DescribeTags', 'MaxResults=5', 'tags-query');
    const items = Array.from({ length: 12 }, (_, i) => i);
    const page1 = pageOf(first, items, readPaging(first));
    assert.deepEqual(page1.items, [0, 1, 2, 3, 4]);
    assert.ok(page1.nextToken);
    const second = request('DescribeTags', `MaxResults=5&NextToken=${page1.nextToken}`, 'tags-query');
    assert.deepEqual(pageOf(second, items, readPaging(second)).items, [5, 6, 7, 8, 9]);
    const other = request('DescribeTags', `NextToken=${page1.nextToken}`, 'another-query');
    assert.equal(
      codeOf(() => readPaging(other)),
      'InvalidPaginationToken',
    );
    assert.equal(
      codeOf(() => readPaging(request('DescribeTags', 'NextToken=not-a-token'))),
      'InvalidPaginationToken',
    );
    assert.equal(nextToken(first, {}), undefined);
  });
});
