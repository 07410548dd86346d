/**
 * The archive's format (ST-2): one contact's month as gzip-compressed JSON Lines, one table row a
 * line, oldest first. Decisions:
 *
 * - **A line is the row as stored**, `pk`/`sk` included (a restore puts it back verbatim), without
 *   the index keys (`gsi1*` is recomputed on restore from `contactId` and the row's time, `gsi2*`
 *   is work that is done: an archived row is never pending again) and without `expiresAt` (it is in
 *   the past by the time anyone restores; the restore sets a fresh one). Leaving `expiresAt` out
 *   also keeps the bytes of a row independent of when it arrived, so a rewrite compares equal.
 * - **Deterministic bytes**: keys sorted at every level, sets (DynamoDB SS/NS) as `{"$set": [...]}`
 *   sorted, binary as `{"$b64": "..."}`, rows sorted by (history time, pk); gzip from node:zlib
 *   writes no file name and mtime 0 (checked by a test), so the same rows give the same object on
 *   the same Node/zlib, and a rewrite that changes nothing is recognised by its sha256 and skipped.
 * - **Level 9**: measured in bench/archive.ts on a realistic month (objects of a few KB): levels 6
 *   and 9 both give ≈ −75.8 % (9 is 0.1 % smaller, ≈ 20 % slower), level 1 −74 %. 9 is kept: an
 *   object is written once, and the job's time is DynamoDB's and S3's, not zlib's.
 * - **Streaming where it pays**: a contact's month is a few KB (bench/archive.ts: median 1.6 KB
 *   gzip), for which a stream pipeline costs more than the compression (≈ 0.2 ms an object), so
 *   up to 1 MiB of lines goes through one asynchronous zlib call; above that the lines go through
 *   a gzip stream in 64 KiB chunks, hashed on the way (same bytes either way: a test checks). The
 *   compressed bytes are collected, not streamed to S3: the metadata (row count, sha256 of the
 *   uncompressed lines) goes with the PUT's headers, known only after the last line.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { TABLE } from '../resources.ts';
import { HISTORY_ROW_PREFIXES } from './keys.ts';

export type Row = Record<string, unknown>;

export const ARCHIVE_FORMAT = 'scrm-history-v1';
export const ARCHIVE_CONTENT_TYPE = 'application/x-ndjson';
export const DEFAULT_GZIP_LEVEL = 9;

const SET_TAG = '$set';
const BINARY_TAG = '$b64';
const CHUNK_BYTES = 64 * 1024;
/** Lines up to this size are compressed in one call, larger ones streamed. */
export const STREAM_ABOVE_BYTES = 1_048_576;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Attributes a line leaves out (see the header). */
const LEFT_OUT = new Set(['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', TABLE.ttlAttribute]);

export interface EncodedArchive {
  /** The gzip bytes, as written to S3. */
  readonly body: Buffer;
  /** sha256 (hex) of the uncompressed JSON Lines. */
  readonly sha256: string;
  readonly rows: number;
  readonly bytesRaw: number;
}

/** The time a history row is ordered by: a message's `sentAt`, an outbound row's `createdAt`. */
export function historyTime(row: Row): number {
  const pk = String(row['pk'] ?? '');
  const at = pk.startsWith(HISTORY_ROW_PREFIXES.outbound) ? row['createdAt'] : row['sentAt'];
  if (typeof at !== 'number') throw new Error(`row ${pk} has no ${pk.startsWith(HISTORY_ROW_PREFIXES.outbound) ? 'createdAt' : 'sentAt'} time`);
  return at;
}

/** A stored row as the archive keeps it: index keys and expiry left out. */
export function archivedRow(item: Row): Row {
  return Object.fromEntries(Object.entries(item).filter(([key]) => !LEFT_OUT.has(key)));
}

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Rows in archive order: by history time, then key. */
export function sortRows(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => historyTime(a) - historyTime(b) || compare(String(a['pk']), String(b['pk'])));
}

/** A value with sorted keys and tagged sets/binary: what JSON.stringify then writes deterministically. */
function canonical(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`attribute ${path} is ${value}, which JSON cannot keep`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => canonical(item, `${path}[${i}]`));
  if (value instanceof Set) return { [SET_TAG]: [...(value as Set<string | number>)].sort(compare) };
  if (value instanceof Uint8Array) return { [BINARY_TAG]: Buffer.from(value).toString('base64') };
  if (typeof value === 'object') {
    const out: Row = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Row)[key];
      if (item !== undefined) out[key] = canonical(item, `${path}.${key}`);
    }
    return out;
  }
  throw new Error(`attribute ${path} holds a ${typeof value}, which the archive cannot keep`);
}

/** One row as its line (no newline). */
export function rowLine(row: Row): string {
  return JSON.stringify(canonical(row, String(row['pk'] ?? 'row')));
}

/** The inverse of the tagging: sets and binary back as the document client writes them. */
function revive(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === SET_TAG) return new Set((value as Record<string, unknown[]>)[SET_TAG]);
    if (keys.length === 1 && keys[0] === BINARY_TAG) return new Uint8Array(Buffer.from((value as Record<string, string>)[BINARY_TAG]!, 'base64'));
  }
  return value;
}

/** The lines as chunks of about 64 KiB, each hashed as it goes out. */
function* chunks(lines: readonly string[], hash: Hash, counter: { bytes: number }): Generator<Buffer> {
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    hash.update(chunk);
    counter.bytes += chunk.length;
    pending = [];
    size = 0;
    return chunk;
  };
  for (const line of lines) {
    pending.push(line, '\n');
    size += line.length + 1;
    if (size >= CHUNK_BYTES) yield flush();
  }
  if (pending.length) yield flush();
}

/** All lines through one zlib call (small objects: no stream overhead). */
async function gzipWhole(lines: readonly string[], level: number): Promise<{ body: Buffer; sha256: string; bytesRaw: number }> {
  const raw = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  return { body: await gzipAsync(raw, { level }), sha256: createHash('sha256').update(raw).digest('hex'), bytesRaw: raw.length };
}

/** The lines through a gzip stream in 64 KiB chunks, hashed on the way (large objects). */
async function gzipStreamed(lines: readonly string[], level: number): Promise<{ body: Buffer; sha256: string; bytesRaw: number }> {
  const hash = createHash('sha256');
  const counter = { bytes: 0 };
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks(lines, hash, counter)), createGzip({ level }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) out.push(chunk);
  });
  return { body: Buffer.concat(out), sha256: hash.digest('hex'), bytesRaw: counter.bytes };
}

/**
 * Rows (stored items) → the object's bytes and metadata. The rows are stripped and sorted here.
 * `streamAbove`: lines longer than this (bytes, about) are streamed (see the header).
 */
export async function encodeRows(items: readonly Row[], level = DEFAULT_GZIP_LEVEL, streamAbove = STREAM_ABOVE_BYTES): Promise<EncodedArchive> {
  const lines = sortRows(items.map(archivedRow)).map(rowLine);
  const length = lines.reduce((n, line) => n + line.length + 1, 0);
  const encoded = length > streamAbove ? await gzipStreamed(lines, level) : await gzipWhole(lines, level);
  return { ...encoded, rows: lines.length };
}

export class ArchiveIntegrityError extends Error {
  override readonly name = 'ArchiveIntegrityError';
}


/** True when the bytes start as gzip does (a proxy honouring Content-Encoding may have inflated them). */
function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * An object's bytes → its rows, after checking the sha256 (and row count) its metadata carries.
 * Refuses, naming the object, anything that does not match: nothing of it is to be restored.
 */
export async function decodeArchive(key: string, bytes: Uint8Array, metadata: Readonly<Record<string, string>>): Promise<Row[]> {
  const expected = metadata['sha256'];
  if (!expected) throw new ArchiveIntegrityError(`${key} has no sha256 in its metadata: not written by the archive, not restored`);
  let raw: Buffer;
  try {
    raw = isGzip(bytes) ? await gunzipAsync(bytes) : Buffer.from(bytes);
  } catch (error) {
    throw new ArchiveIntegrityError(`${key} is not valid gzip (${(error as Error).message}): not restored`);
  }
  const actual = createHash('sha256').update(raw).digest('hex');
  if (actual !== expected) throw new ArchiveIntegrityError(`${key} does not match its sha256 (metadata ${expected}, content ${actual}): changed or damaged, not restored`);
  const lines = raw.toString('utf8').split('\n').filter((line) => line.length > 0);
  const declared = metadata['rows'];
  if (declared !== undefined && Number(declared) !== lines.length) throw new ArchiveIntegrityError(`${key} holds ${lines.length} rows, its metadata says ${declared}: not restored`);
  return lines.map((line, i) => {
    try {
      return JSON.parse(line, revive) as Row;
    } catch (error) {
      throw new ArchiveIntegrityError(`${key} line ${i + 1} is not JSON (${(error as Error).message}): not restored`);
    }
  });
}

/** The metadata (x-amz-meta-*) written with an object. */
export function archiveMetadata(encoded: EncodedArchive): Record<string, string> {
  return { format: ARCHIVE_FORMAT, rows: String(encoded.rows), sha256: encoded.sha256 };
}
