/**
 * The workload's key-value store: an append-only log inside the instance's own disk file, from 8 MiB on. Because the
 * data lives in the disk's bytes, whatever copies the disk (an image capture, a download, an OVA replica) carries it.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/** Where the log starts: past the seed header (first 4 KiB) and the capture stamp (at 1 MiB). */
export const KV_OFFSET = 8 * 1024 * 1024;
export const MAX_KEY_BYTES = 200;
export const MAX_VALUE_BYTES = 64 * 1024;
/** Keys are one URL path segment of unreserved characters, so `/kv/{key}` needs no decoding. */
export const KEY_PATTERN = /^[A-Za-z0-9._~-]{1,200}$/;

const MAGIC = 0x534b5631; // 'SKV1'
const HEADER_BYTES = 16;
const PUT = 1;
const DELETE = 2;

/** The log has no room left for a record (the disk's size bounds it). */
export class KvFullError extends Error {}

/**
 * Record layout: magic u32 | op u8 | key length u8 | 0 u16 | value length u32 | check u32, then key and value.
 * `check` is the first 4 bytes of SHA-256 over op..value length, key and value: a record torn by a crash or caught
 * half-written by a disk copy fails it, and the log ends just before it.
 */
export class KvLog {
  private constructor(
    private readonly fd: number,
    private readonly data: Map<string, Buffer>,
    private end: number,
    private readonly size: number,
  ) {}

  /** Opens the log in `path` (which must be at least KV_OFFSET long) and replays it. */
  static open(path: string): KvLog {
    const fd = openSync(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      if (size <= KV_OFFSET + HEADER_BYTES) throw new Error(`disk ${path} is too small to hold a key-value log (${size} bytes)`);
      const { data, end } = replay(fd, size);
      return new KvLog(fd, data, end, size);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get(key: string): Buffer | undefined {
    return this.data.get(key);
  }

  keys(): string[] {
    return [...this.data.keys()].sort();
  }

  get count(): number {
    return this.data.size;
  }

  /** Appends and applies a put; answers whether the key is new. The record is in the file when this returns. */
  put(key: string, value: Buffer): boolean {
    const created = !this.data.has(key);
    this.append(PUT, key, value);
    this.data.set(key, Buffer.from(value));
    return created;
  }

  /** Appends a delete when the key exists; answers whether it did. */
  delete(key: string): boolean {
    if (!this.data.has(key)) return false;
    this.append(DELETE, key, Buffer.alloc(0));
    this.data.delete(key);
    return true;
  }

  close(): void {
    closeSync(this.fd);
  }

  private append(op: number, key: string, value: Buffer): void {
    const record = encode(op, key, value);
    if (this.end + record.length > this.size) throw new KvFullError(`the key-value log is full (${this.size - KV_OFFSET} bytes)`);
    // One positional write per record, synchronous: an acknowledged write is in the file (the page cache), so a
    // capture taken after the answer sees it, and a kill -9 of the serving process loses nothing acknowledged.
    writeSync(this.fd, record, 0, record.length, this.end);
    this.end += record.length;
  }
}

/** Reads the key-value data a disk file holds, without serving it: how tests and drills count what a copy carried. */
export function readKvLog(path: string): Map<string, Buffer> {
  const fd = openSync(path, 'r');
  try {
    return replay(fd, fstatSync(fd).size).data;
  } finally {
    closeSync(fd);
  }
}

function replay(fd: number, size: number): { data: Map<string, Buffer>; end: number } {
  const data = new Map<string, Buffer>();
  const header = Buffer.alloc(HEADER_BYTES);
  let pos = KV_OFFSET;
  while (pos + HEADER_BYTES <= size) {
    if (readSync(fd, header, 0, HEADER_BYTES, pos) < HEADER_BYTES || header.readUInt32BE(0) !== MAGIC) break;
    const op = header.readUInt8(4);
    const keyLength = header.readUInt8(5);
    const valueLength = header.readUInt32BE(8);
    if ((op !== PUT && op !== DELETE) || keyLength === 0 || valueLength > MAX_VALUE_BYTES) break;
    const bodyLength = keyLength + valueLength;
    if (pos + HEADER_BYTES + bodyLength > size) break;
    const body = Buffer.alloc(bodyLength);
    if (readSync(fd, body, 0, bodyLength, pos + HEADER_BYTES) < bodyLength) break;
    if (!checkOf(header, body).equals(header.subarray(12, 16))) break;
    const key = body.subarray(0, keyLength).toString('latin1');
    if (op === PUT) data.set(key, body.subarray(keyLength));
    else data.delete(key);
    pos += HEADER_BYTES + bodyLength;
  }
  return { data, end: pos };
}

function encode(op: number, key: string, value: Buffer): Buffer {
  const keyBytes = Buffer.from(key, 'latin1');
  const record = Buffer.alloc(HEADER_BYTES + keyBytes.length + value.length);
  record.writeUInt32BE(MAGIC, 0);
  record.writeUInt8(op, 4);
  record.writeUInt8(keyBytes.length, 5);
  record.writeUInt32BE(value.length, 8);
  keyBytes.copy(record, HEADER_BYTES);
  value.copy(record, HEADER_BYTES + keyBytes.length);
  checkOf(record, record.subarray(HEADER_BYTES)).copy(record, 12);
  return record;
}

function checkOf(header: Buffer, body: Buffer): Buffer {
  return createHash('sha256').update(header.subarray(4, 12)).update(body).digest().subarray(0, 4);
}
