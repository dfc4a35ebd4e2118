/**
 * Reads an OVA as it streams in: the descriptor first, then the manifest and certificate, then the files
 * it references. Refuses anything that is not a plain member inside the package (`..`, absolute paths,
 * links, devices), sizes that differ from References, missing files and digests that disagree with the
 * manifest. Member names never become paths: kept files are stored as `file-<n>` under `workDir`.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { SkygateError, invalid } from '../core/errors.js';
import { MAX_MANIFEST_BYTES, type Manifest, parseManifest } from './manifest.js';
import { parseOvf } from './ovf-parse.js';
import { Problems } from './ovf-problems.js';
import type { OvfEnvelope, OvfFile } from './ovf-types.js';
import { byteLimit, digestThrough } from './streams.js';
import { MAX_DESCRIPTOR_BYTES } from './xml.js';

export interface OvaMember {
  name: string;
  size: number;
  /** The References file it is. */
  fileId: string;
  /** Where it was stored, when the caller kept it. */
  path?: string;
}

export interface OvaContents {
  descriptorName: string;
  descriptor: Buffer;
  envelope: OvfEnvelope;
  manifest?: Manifest;
  members: OvaMember[];
  /** Package-level remarks (no manifest, an unverified certificate, unreferenced members). */
  warnings: string[];
}

export interface ReadOvaOptions {
  /** Where kept files go; without it nothing is written and every member is only checked. */
  workDir?: string;
  /** Which References files (by id) to keep, decided once the descriptor is read; default none. */
  keep?: (envelope: OvfEnvelope) => Set<string>;
  /** Called with each file member's bytes so far, for progress. */
  onBytes?: (bytes: number) => void;
  /** Refuses a package larger than this with `payload_too_large` (naming `limitField`). */
  maxBytes?: number;
  limitField?: string;
}

const fail = (reason: string, member?: string) => invalid(member === undefined ? 'package' : `package.${member}`, reason);

/** Refuses member names that could point outside the package. */
export function checkMemberName(name: string): string {
  if (name === '' || name.includes('\0')) throw fail('a member has an empty or NUL-containing name');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\')) {
    throw fail(`member '${name}' has an absolute path; OVA members must be relative to the package`, name);
  }
  const parts = name.replace(/^(\.\/)+/, '').split('/');
  if (parts.includes('..')) throw fail(`member '${name}' escapes the package ('..')`, name);
  if (parts.some((p) => p === '' || p === '.')) throw fail(`member '${name}' is not a plain file name`, name);
  return parts.join('/');
}

/** An href that names a file outside the package (a URL, an absolute path). */
const isExternal = (href: string) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(href) || href.startsWith('/');

async function readSmall(entry: Readable, max: number, what: string, name: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += (chunk as Buffer).length;
    if (size > max) throw fail(`${what} '${name}' is larger than the ${max} bytes accepted`, name);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** A sink that only counts, for members that are checked but not kept. */
const discard = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

/** Reads the package from `source`; throws `invalid_input` naming the member and the reason on any problem. */
export async function readOva(source: Readable, opts: ReadOvaOptions = {}): Promise<OvaContents> {
  const extract = tar.extract();
  const feed =
    opts.maxBytes === undefined
      ? pipeline(source, extract)
      : pipeline(source, byteLimit(opts.maxBytes, 'the package', opts.limitField ?? 'package'), extract);
  feed.catch(() => {}); // its error reaches the loop below through the extract stream

  const seen = new Set<string>();
  const members: OvaMember[] = [];
  const digests = new Map<string, string>();
  const warnings: string[] = [];
  let index = -1;
  let descriptor: { name: string; data: Buffer; envelope: OvfEnvelope } | undefined;
  let manifest: Manifest | undefined;
  let keep = new Set<string>();
  let fileBytes = 0;
  try {
    for await (const item of extract) {
      // streamx streams, which node's stream utilities accept as Readables.
      const entry = item as unknown as Readable & { header: tar.Header };
      index++;
      const raw = entry.header.name;
      const name = checkMemberName(raw);
      const type = entry.header.type ?? 'file';
      if (type !== 'file' && type !== 'contiguous-file') {
        throw fail(`member '${raw}' is a ${type}; an OVA holds regular files only`, raw);
      }
      if (seen.has(name)) throw fail(`member '${name}' appears twice`, name);
      seen.add(name);
      const lower = name.toLowerCase();

      if (index === 0) {
        if (!lower.endsWith('.ovf')) throw fail(`the first member must be the OVF descriptor (.ovf), found '${name}'`, name);
        const data = await readSmall(entry, MAX_DESCRIPTOR_BYTES, 'descriptor', name);
        const envelope = parseOvf(data);
        descriptor = { name, data, envelope };
        keep = opts.keep?.(envelope) ?? new Set();
        continue;
      }
      const env = (descriptor as NonNullable<typeof descriptor>).envelope;
      if (lower.endsWith('.mf')) {
        if (index !== 1) throw fail(`the manifest '${name}' must directly follow the descriptor`, name);
        manifest = parseManifest(
          (await readSmall(entry, MAX_MANIFEST_BYTES, 'manifest', name)).toString('utf8'),
          `package.${name}`,
        );
        continue;
      }
      if (lower.endsWith('.cert')) {
        await readSmall(entry, MAX_MANIFEST_BYTES, 'certificate', name);
        warnings.push(`certificate '${name}' is present but its signature is not verified`);
        continue;
      }
      const file = env.files.find((f) => f.href === name || f.href.replace(/^(\.\/)+/, '') === name);
      if (!file) {
        warnings.push(`member '${name}' is not referenced by the descriptor and was ignored`);
        entry.resume();
        continue;
      }
      checkFileMember(file, entry.header.size ?? 0, name);
      const hashing = digestThrough(manifest?.algorithm, (n) => {
        fileBytes += n;
        opts.onBytes?.(fileBytes);
      });
      const path = opts.workDir !== undefined && keep.has(file.id) ? join(opts.workDir, `file-${members.length}`) : undefined;
      await pipeline(entry, hashing, path === undefined ? discard() : createWriteStream(path));
      const digest = hashing.digest();
      if (digest !== undefined) digests.set(name, digest);
      members.push({ name, size: entry.header.size ?? 0, fileId: file.id, ...(path !== undefined && { path }) });
    }
    await feed;
  } catch (e) {
    source.destroy();
    extract.destroy();
    if (e instanceof SkygateError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw fail(`is not a readable OVA (tar) archive: ${message}`);
  }
  if (!descriptor) throw fail('is empty: an OVA must start with its OVF descriptor');
  const d = descriptor;
  checkCompleteness(d.envelope, members, d.name);
  if (manifest) verifyManifest(manifest, d, digests, members);
  else warnings.push('the package has no manifest (.mf): its integrity was not verified');
  return { descriptorName: d.name, descriptor: d.data, envelope: d.envelope, ...(manifest && { manifest }), members, warnings };
}

function checkFileMember(file: OvfFile, size: number, name: string): void {
  if (file.chunkSize !== undefined)
    throw new SkygateError('unsupported', `file '${file.href}' is chunked (ovf:chunkSize), which skygate does not reassemble`, {
      field: `package.${name}`,
    });
  if (file.compression !== undefined) {
    throw new SkygateError(
      'unsupported',
      `file '${file.href}' is ${file.compression}-compressed (ovf:compression), which skygate does not unpack`,
      { field: `package.${name}` },
    );
  }
  if (file.size !== undefined && size > file.size) {
    throw fail(`member '${name}' is ${size} bytes, larger than the ${file.size} declared in References`, name);
  }
  if (file.size !== undefined && size < file.size) {
    throw fail(`member '${name}' is ${size} bytes, smaller than the ${file.size} declared in References`, name);
  }
}

function checkCompleteness(env: OvfEnvelope, members: OvaMember[], descriptorName: string): void {
  const problems = new Problems();
  for (const f of env.files) {
    if (isExternal(f.href)) {
      problems.error(
        `package.${descriptorName}`,
        `file '${f.id}' refers to '${f.href}' outside the package; skygate does not fetch external files`,
      );
    } else if (!members.some((m) => m.fileId === f.id)) {
      problems.error(`package.${f.href}`, `the descriptor references '${f.href}' (file '${f.id}'), which is not in the package`);
    }
  }
  problems.throwIfAny();
}

function verifyManifest(
  manifest: Manifest,
  descriptor: { name: string; data: Buffer },
  digests: Map<string, string>,
  members: OvaMember[],
): void {
  const problems = new Problems();
  const actual = new Map(digests);
  actual.set(descriptor.name, createHash(manifest.algorithm).update(descriptor.data).digest('hex'));
  const label = manifest.algorithm.toUpperCase();
  for (const [name, digest] of actual) {
    const listed = manifest.digests.get(name);
    if (listed === undefined) problems.error(`package.${name}`, `the manifest has no digest for '${name}'`);
    else if (listed !== digest)
      problems.error(`package.${name}`, `${label} digest mismatch: the manifest says ${listed}, the member has ${digest}`);
  }
  for (const name of manifest.digests.keys()) {
    if (!actual.has(name) && !members.some((m) => m.name === name)) {
      problems.error('package', `the manifest lists '${name}', which is not in the package`);
    }
  }
  problems.throwIfAny();
}
