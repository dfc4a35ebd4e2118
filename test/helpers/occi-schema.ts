/**
 * Validates JSON renderings against the OCCI v1.2 JSON Rendering Schema (rOCCI-core's, draft-04, in
 * test/fixtures/occi/schema), with Ajv 8. The schema's known quirks are worked around here, each said where.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'occi', 'schema');

/** Draft-04's meta-schema definition the OCCI schema references, as published in draft-04's schema. */
const DRAFT04_STRING_ARRAY = {
  $id: 'http://json-schema.org/draft-04/schema',
  definitions: { stringArray: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true } },
};

/**
 * Draft-04's `id`s in this schema are plain-name fragments (`#kinded_uri`) that no `$ref` uses (every `$ref`
 * is a JSON pointer), so dropping them changes nothing; Ajv 8 refuses the draft-04 keyword otherwise.
 */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, k === 'properties' || k === 'patternProperties' ? propertiesWithoutIds(v) : withoutIds(v)]),
  );
}
/** Under `properties`, keys are property names (a property may be called `id`), not keywords. */
const propertiesWithoutIds = (props: unknown) =>
  Object.fromEntries(Object.entries(props as Record<string, unknown>).map(([k, v]) => [k, withoutIds(v)]));

function load(name: string): Record<string, unknown> {
  const schema = withoutIds(JSON.parse(readFileSync(path.join(DIR, name), 'utf8'))) as Record<string, unknown>;
  // Ajv 8 does not know draft-04's meta-schema URI; nothing here depends on validating the schema itself.
  delete schema.$schema;
  return schema;
}

const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
ajv.addSchema(DRAFT04_STRING_ARRAY);
ajv.addSchema(load('occi-schema.json'), 'occi-schema.json');

export type OcciDocument =
  | 'model'
  | 'resource'
  | 'link'
  | 'entity-collection'
  | 'action-instance'
  | 'category-identifiers'
  | 'locations';

const validators = new Map<OcciDocument, ValidateFunction>();
function validator(doc: OcciDocument): ValidateFunction {
  let v = validators.get(doc);
  if (!v) {
    const entry = load(`${doc}.json`);
    // Quirk (SOURCES.md): resource.json's `$ref` lacks the '/' after '#'; this is the reference it means.
    if (doc === 'resource') entry.$ref = 'occi-schema.json#/definitions/resource';
    v = ajv.compile(entry);
    validators.set(doc, v);
  }
  return v;
}

/** The schema's complaints about `value` as a `doc`, as readable lines (empty when valid). */
export function occiSchemaErrors(doc: OcciDocument, value: unknown): string[] {
  const v = validator(doc);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** Parses an OCCI JSON answer and asserts it is a valid `doc` by the OGF schema; answers the parsed value. */
export function occiJson(doc: OcciDocument, text: string): Record<string, unknown> {
  const value = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(occiSchemaErrors(doc, value), [], `not a valid OCCI ${doc}: ${text.slice(0, 400)}`);
  return value;
}
