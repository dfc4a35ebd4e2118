/**
 * The OCCI front's parser and renderer against the rOCCI-core sample renderings: every sample is read by
 * the front's parser, and the text samples by the independent GFD.229 parser too (which proves that parser
 * reads real renderings); what the front renders is read back by the independent parser and the schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ACTIONS, KINDS, MIXINS } from '../../src/api/occi/categories.js';
import { computeOf, networkInterfaceOf, termOf } from '../../src/api/occi/entities.js';
import { parseJson, parseTextBody, parseTextHeaders } from '../../src/api/occi/parse.js';
import { plainBody, renderModel, renderResource } from '../../src/api/occi/render.js';
import type { Instance } from '../../src/core/index.js';
import { occiSchemaErrors } from '../helpers/occi-schema.js';
import { parseCategoryValue, parseTextPlain } from '../helpers/occi-text-grammar.js';

const sample = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'occi', 'examples', name), 'utf8');

const instance: Instance = {
  id: 'sim-east:i-1',
  provider: 'sim-east',
  nativeId: 'i-1',
  observedAt: '2026-01-01T00:00:00Z',
  name: 'web "one"',
  state: 'running',
  flavorId: 'sim-east:sim.small',
  imageId: 'sim-east:img-debian-12',
  zone: 'sim-east-a',
  privateIp: '10.0.0.4',
  tags: {},
  createdAt: '2026-01-01T00:00:00Z',
};

describe('OCCI sample renderings (rOCCI-core)', () => {
  it('the schema accepts the JSON samples, and the front parses them', () => {
    assert.deepEqual(occiSchemaErrors('resource', JSON.parse(sample('instance.json'))), []);
    assert.deepEqual(occiSchemaErrors('action-instance', JSON.parse(sample('action_instance.json'))), []);
    assert.deepEqual(occiSchemaErrors('category-identifiers', JSON.parse(sample('categories.json'))), []);
    const resource = parseJson(sample('instance.json'));
    assert.deepEqual(resource.categories, [
      { scheme: 'http://schemas.ogf.org/occi/infrastructure#', term: 'compute', class: 'kind' },
    ]);
    assert.equal(resource.attributes['occi.compute.cores'], 1);
    assert.equal(resource.attributes['occi.core.title'], 'my_compute');
    const action = parseJson(sample('action_instance.json'));
    assert.equal(action.categories[0]?.term, 'suspend');
    assert.equal(action.attributes.method, 'suspend');
    assert.equal(parseJson(sample('categories.json')).categories.length, 4);
  });

  it('the front parses the text samples as request bodies, the same as their JSON twins', () => {
    const fromText = parseTextBody(sample('instance.txt'));
    const fromJson = parseJson(sample('instance.json'));
    assert.deepEqual(fromText.categories, fromJson.categories);
    for (const [k, v] of Object.entries(fromText.attributes)) assert.deepEqual(v, fromJson.attributes[k], k);
    const action = parseTextBody(sample('action_instance.txt'));
    assert.deepEqual(action.categories, [
      { term: 'suspend', scheme: 'http://schemas.ogf.org/occi/infrastructure/compute/action#', class: 'action' },
    ]);
    assert.equal(parseTextBody(sample('categories.txt')).categories.length, 4);
  });

  it('the independent GFD.229 parser reads the text samples (so it reads real renderings)', () => {
    const model = parseTextPlain(sample('model.txt'));
    const compute = model.categories.find((c) => c.term === 'compute');
    assert.equal(compute?.location, '/compute/');
    assert.deepEqual(
      compute?.attributes?.find((a) => a.name === 'occi.core.id'),
      { name: 'occi.core.id', immutable: true, required: true },
    );
    const inst = parseTextPlain(sample('instance.txt'));
    assert.equal(inst.links.length, 5);
    assert.equal(inst.links[3]?.self, '/storagelink/compute_89878_disk_0');
    assert.equal(inst.attributes['occi.compute.memory'], 1);
  });

  it('the front refuses malformed text with the line or header at fault', () => {
    assert.throws(() => parseTextBody('Category: compute;scheme="x#"'), /class must be/);
    assert.throws(() => parseTextHeaders({ 'x-occi-attribute': 'a.b="1", a.b="2"' }), /given twice/);
    assert.throws(() => parseTextBody('X-OCCI-Attribute: occi.core.title="open'), /unterminated/);
  });
});

describe('OCCI renderings of skygate entities', () => {
  const entity = computeOf(instance, { ...instance, vcpus: 1, memoryMiB: 1536, diskGiB: 10, name: 'sim.small' } as never, [
    networkInterfaceOf(instance),
  ]);

  it('a compute in JSON is a valid resource with its templates as mixins', () => {
    const doc = JSON.parse(String(renderResource(entity, 'json').body)) as Record<string, unknown>;
    assert.deepEqual(occiSchemaErrors('resource', doc), []);
    assert.deepEqual(doc.mixins, [
      'http://schemas.skygate.dev/occi/provider#sim-east',
      'http://schemas.skygate.dev/occi/sim-east/os_tpl#img-debian-12',
      'http://schemas.skygate.dev/occi/sim-east/resource_tpl#sim_small',
    ]);
    assert.equal((doc.attributes as Record<string, unknown>)['occi.compute.memory'], 1.5);
  });

  it('a compute in text/plain reads back through the GFD.229 parser, quotes escaped', () => {
    const t = parseTextPlain(plainBody(renderResource(entity, 'plain').lines));
    assert.equal(t.attributes['occi.core.title'], 'web "one"');
    assert.equal(t.attributes['occi.compute.state'], 'active');
    assert.equal(t.attributes['occi.compute.memory'], 1.5);
    assert.deepEqual(
      t.links.map((l) => l.target),
      [
        '/compute/sim-east:i-1?action=stop',
        '/compute/sim-east:i-1?action=restart',
        '/compute/sim-east:i-1?action=save',
        '/network/sim-east:default-network',
      ],
    );
  });

  it('the model renders every category in the grammar and the schema', () => {
    const cats = [...Object.values(KINDS), ...Object.values(ACTIONS), ...Object.values(MIXINS)];
    for (const [, line] of renderModel(cats, 'plain').lines) parseCategoryValue(line);
    assert.deepEqual(occiSchemaErrors('model', JSON.parse(String(renderModel(cats, 'json').body))), []);
  });

  it('terms follow the grammar whatever the native id', () => {
    for (const id of ['sim.small', 'ami-0ABC', '_x', 'a~b', 'ok-1_2']) assert.match(termOf(id), /^[a-z0-9][a-z0-9_-]*$/);
  });
});
