/** SSH key pairs: ImportKeyPair, DescribeKeyPairs, DeleteKeyPair. */
import { SkygateError, type KeyPair } from '../../../core/index.js';
import { type ActionTable, type Ec2Context, defineAction } from '../context.js';
import { Ec2Error, ec2Errors } from '../ec2-errors.js';
import { filterPredicate, parseFilters } from '../filters.js';
import type { XmlObject } from '../xml-render.js';
import { readTagSpecs, tagSet } from './common.js';

function renderKeyPair(k: KeyPair, includePublicKey: boolean): XmlObject {
  return {
    keyPairId: k.id,
    keyFingerprint: k.fingerprint,
    keyName: k.name,
    keyType: k.keyType === 'ed25519' ? 'ed25519' : 'rsa',
    tagSet: tagSet(k.tags),
    publicKey: includePublicKey ? k.publicKey : undefined,
    createTime: k.createdAt,
  };
}

const notFound = (what: string) => new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${what}' does not exist`);

const importKeyPair = defineAction(['KeyName', 'PublicKeyMaterial', 'TagSpecification'], async (ctx) => {
  const name = ctx.params.requireString('KeyName');
  const material = ctx.params.requireString('PublicKeyMaterial');
  // A blob travels base64-encoded in the Query protocol; what it carries is the OpenSSH public key line.
  if (!/^[A-Za-z0-9+/\r\n]+={0,2}\s*$/.test(material)) {
    throw new Ec2Error('InvalidKeyPair.Format', 'PublicKeyMaterial must be base64 of an OpenSSH public key');
  }
  const tags = readTagSpecs(ctx.params, ['key-pair']).get('key-pair') ?? {};
  let keyPair: KeyPair;
  try {
    keyPair = await ctx.core.keyPairs.import(
      ctx.region,
      name,
      Buffer.from(material, 'base64').toString('utf8'),
      ctx.caller,
      tags,
    );
  } catch (e) {
    if (e instanceof SkygateError && e.code === 'invalid_input' && e.field === 'publicKeyMaterial') {
      throw new Ec2Error('InvalidKeyPair.Format', `Key is not in valid OpenSSH public key format: ${e.message}`);
    }
    if (e instanceof SkygateError && e.code === 'conflict') {
      throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
    }
    throw e;
  }
  return { keyFingerprint: keyPair.fingerprint, keyName: keyPair.name, keyPairId: keyPair.id, tagSet: tagSet(keyPair.tags) };
});

async function selectKeyPairs(ctx: Ec2Context): Promise<KeyPair[]> {
  const names = ctx.params.list('KeyName');
  const ids = ctx.params.list('KeyPairId');
  const predicate = filterPredicate<KeyPair>(parseFilters(ctx.params), {
    'key-name': (k) => k.name,
    'key-pair-id': (k) => k.id,
    fingerprint: (k) => k.fingerprint,
    'key-type': (k) => (k.keyType === 'ed25519' ? 'ed25519' : 'rsa'),
  });
  const all = await ctx.core.keyPairs.list(ctx.region);
  const missing = [...names.filter((n) => !all.some((k) => k.name === n)), ...ids.filter((id) => !all.some((k) => k.id === id))];
  if (missing.length > 0) throw notFound(missing.join(', '));
  return all.filter(
    (k) =>
      (names.length === 0 || names.includes(k.name)) && (ids.length === 0 || ids.includes(k.id)) && (!predicate || predicate(k)),
  );
}

const describeKeyPairs = defineAction(['KeyName', 'KeyPairId', 'Filter', 'IncludePublicKey'], async (ctx) => {
  const includePublicKey = ctx.params.bool('IncludePublicKey') ?? false;
  return { keySet: (await selectKeyPairs(ctx)).map((k) => renderKeyPair(k, includePublicKey)) };
});

const deleteKeyPair = defineAction(['KeyName', 'KeyPairId'], async (ctx) => {
  const name = ctx.params.string('KeyName');
  const id = ctx.params.string('KeyPairId');
  if (name === undefined && id === undefined) throw ec2Errors.missingParameter('KeyName');
  const all = await ctx.core.keyPairs.list(ctx.region);
  const target = all.find((k) => (name === undefined || k.name === name) && (id === undefined || k.id === id));
  // As EC2: deleting a key pair that does not exist succeeds.
  if (target) await ctx.core.keyPairs.delete(ctx.region, target.name, ctx.caller);
  return { return: true };
});

export const keyPairActions: ActionTable = {
  ImportKeyPair: importKeyPair,
  DescribeKeyPairs: describeKeyPairs,
  DeleteKeyPair: deleteKeyPair,
};
