/** The EC2 Query parameter tree and EC2 filters: lists, structures, typed values, wildcards, and their refusals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterPredicate, parseFilters } from '../../src/api/ec2/filters.js';
import { Ec2Params } from '../../src/api/ec2/query-parser.js';
import { codeOf } from '../helpers/ec2-errors-of.js';

const parse = (query: string) => Ec2Params.parse(new URLSearchParams(query));

describe('Ec2Params', () => {
  it('reads strings, lists in index order and nested structures', () => {
    const p = parse(
      'Action=RunInstances&InstanceId.2=i-b&InstanceId.1=i-a&InstanceId.10=i-j' +
        '&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.2.Key=b&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=x%20y' +
        '&Placement.AvailabilityZone=zone-a',
    );
    assert.equal(p.string('Action'), 'RunInstances');
    assert.deepEqual(p.list('InstanceId'), ['i-a', 'i-b', 'i-j']);
    const [spec] = p.structs('TagSpecification');
    assert.equal(spec?.string('ResourceType'), 'instance');
    assert.deepEqual(
      spec?.structs('Tag').map((t) => [t.string('Key'), t.string('Value')]),
      [
        ['a', 'x y'],
        ['b', undefined],
      ],
    );
    assert.equal(p.struct('Placement')?.string('AvailabilityZone'), 'zone-a');
    assert.deepEqual(p.list('Missing'), []);
    assert.deepEqual(p.names().sort(), ['Action', 'InstanceId', 'Placement', 'TagSpecification']);
  });

  it('refuses a parameter given twice, Action above all, naming it', () => {
    assert.throws(() => parse('Action=DescribeInstances&Version=2016-11-15&Action=TerminateInstances'), {
      name: 'Ec2Error',
      code: 'MalformedQueryString',
      message: /The parameter Action is given more than once/,
    });
    assert.equal(
      codeOf(() => parse('InstanceId.1=i-a&InstanceId.1=i-b')),
      'MalformedQueryString',
    );
    // The same name once is fine, also when a sibling shares its prefix.
    assert.deepEqual(parse('Action=A&ActionX=B').names(), ['Action', 'ActionX']);
  });

  it('leaves the SigV4 parameters of a pre-signed request out', () => {
    const p = parse('Action=DescribeRegions&X-Amz-Signature=abc&X-Amz-Date=20250101T000000Z');
    assert.deepEqual(p.names(), ['Action']);
  });

  it('types integers and booleans, naming the parameter and the range when refusing', () => {
    const p = parse('MaxResults=50&DryRun=TRUE&Bad=1.5&Flag=yes&Big=5000');
    assert.equal(p.int('MaxResults', { min: 5, max: 1000 }), 50);
    assert.equal(p.bool('DryRun'), true);
    assert.equal(
      codeOf(() => p.int('Bad', { min: 0, max: 10 })),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => p.bool('Flag')),
      'InvalidParameterValue',
    );
    assert.throws(
      () => p.int('Big', { min: 5, max: 1000 }),
      /Value \(5000\) for parameter Big is invalid\. Expecting a value between 5 and 1000/,
    );
  });

  it('refuses a missing required value, a list index that is no number, and a value where a list belongs', () => {
    assert.equal(
      codeOf(() => parse('Name=').requireString('Name')),
      'MissingParameter',
    );
    assert.equal(
      codeOf(() => parse('').requireString('ImageId')),
      'MissingParameter',
    );
    assert.equal(
      codeOf(() => parse('InstanceId.x=i-1').list('InstanceId')),
      'UnknownParameter',
    );
    assert.equal(
      codeOf(() => parse('InstanceId.0=i-1').list('InstanceId')),
      'UnknownParameter',
    );
    assert.equal(
      codeOf(() => parse('InstanceId=i-1').list('InstanceId')),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => parse('Name.1=a').string('Name')),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => parse('Filter..Name=a')),
      'MalformedQueryString',
    );
  });

  it('names nested parameters in full in its refusals', () => {
    const [spec] = parse('TagSpecification.3.Tag.1.Value=v').structs('TagSpecification');
    assert.throws(() => spec?.structs('Tag')[0]?.requireString('Key'), /TagSpecification\.3\.Tag\.1\.Key/);
    assert.equal(
      codeOf(() => parse('A=1&B=2').allowOnly(new Set(['A']))),
      'UnknownParameter',
    );
  });
});

describe('EC2 filters', () => {
  interface R {
    id: string;
    state: string;
    tags: Record<string, string>;
  }
  const items: R[] = [
    { id: 'a', state: 'running', tags: { Name: 'web-1', env: 'prod' } },
    { id: 'b', state: 'stopped', tags: { Name: 'web-2' } },
    { id: 'c', state: 'running', tags: { Name: 'db*1' } },
  ];
  const fields = { 'instance-state-name': (r: R) => r.state, 'instance-id': (r: R) => r.id };
  const select = (query: string) => {
    const predicate = filterPredicate(parseFilters(parse(query)), fields);
    return items.filter((r) => !predicate || predicate(r)).map((r) => r.id);
  };

  it('ORs values within a filter and ANDs filters', () => {
    assert.deepEqual(select(''), ['a', 'b', 'c']);
    assert.deepEqual(select('Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=stopped'), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(
      select('Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.2.Name=tag:Name&Filter.2.Value.1=web-1'),
      ['a'],
    );
  });

  it('matches tags by key, key and value, and value, with * ? and \\ as EC2 does', () => {
    assert.deepEqual(select('Filter.1.Name=tag:Name&Filter.1.Value.1=web-*'), ['a', 'b']);
    assert.deepEqual(select('Filter.1.Name=tag:Name&Filter.1.Value.1=web-?'), ['a', 'b']);
    assert.deepEqual(select('Filter.1.Name=tag:Name&Filter.1.Value.1=db\\*1'), ['c'], 'an escaped * is literal');
    assert.deepEqual(select('Filter.1.Name=tag-key&Filter.1.Value.1=env'), ['a']);
    assert.deepEqual(select('Filter.1.Name=tag-value&Filter.1.Value.1=prod'), ['a']);
    assert.deepEqual(select('Filter.1.Name=tag:env&Filter.1.Value.1=*'), ['a'], 'a tag filter needs the key present');
    assert.deepEqual(select('Filter.1.Name=tag:Name&Filter.1.Value.1=.*'), [], 'regex syntax is literal');
  });

  it('refuses unknown names and malformed filters', () => {
    assert.equal(
      codeOf(() => select('Filter.1.Name=colour&Filter.1.Value.1=red')),
      'InvalidParameterValue',
    );
    assert.equal(
      codeOf(() => select('Filter.1.Value.1=red')),
      'InvalidFilter',
    );
    assert.equal(
      codeOf(() => select('Filter.1.Name=instance-id')),
      'InvalidFilter',
    );
    assert.equal(
      codeOf(() => select('Filter.1.Name=instance-id&Filter.1.Values.1=a')),
      'InvalidFilter',
    );
    assert.equal(
      codeOf(() => select('Filter.1=x')),
      'InvalidParameterValue',
    );
  });
});
