/**
 * Conversation history archived to S3 before DynamoDB's TTL removes it, and restored on demand
 * (ST-1, ST-2). What is archived: every row of a contact's history (gsi1 `CONTACT#<id>`), i.e.
 * message rows `MESSAGE#<wamid>` (both directions) and our outbound rows `OUTBOUND#<id>`, of one
 * UTC month by their history time (gsi1sk `MSG#<iso>#…`, built from a message's `sentAt` and an
 * outbound row's `createdAt`). One object per contact and month: `archive/<contactId>/<YYYY-MM>.jsonl.gz`
 * (format in codec.ts). When a month is due, and when it is done: months.ts.
 *
 * **Finding a month's rows.** The table has no index by time across contacts, so the job runs a
 * parallel Scan (Segment/TotalSegments) filtered on the gsi1sk range, projecting only `gsi1pk`:
 * that yields the contacts with rows in the month. Then, per contact, a Query on gsi1 for the
 * month's range reads the rows in order, and only one contact's rows are in memory at a time.
 * Cost: a Scan reads every item whatever the filter, 0.5 RCU per 4 KB (eventually consistent):
 * for a table of 1 M rows of ~1 KB about 125 k RCU (≈ $0.016 on demand at $0.125 per million
 * reads), plus the month's rows again through the queries (≈ 1/6 of that with 180 days kept).
 * A month is scanned once (its final marker stops further runs), so this is cents a year; the
 * S3 PUTs ($0.005 per 1,000, one per contact and month) cost more than the reads.
 *
 * **Idempotent, and rewrites keep what is archived.** The same rows give the same bytes. A month
 * archived again (forced, or while its marker is not final) may have lost rows to TTL since, so
 * from the first day TTL can have started (or when a marker exists) each contact's object is read
 * back, verified, and merged with the table's rows (the table's version of a row wins: late
 * statuses, CRM ids); the object is written only when its sha256 changes. So a rewrite never
 * drops a row the earlier archive held, and running twice writes nothing new. Contacts whose rows
 * have all left the table keep their objects untouched. An earlier object that fails its check
 * (sha256) stops the run, naming it: it is never overwritten silently. On AWS those reads need
 * s3:ListBucket besides s3:GetObject, or S3 answers a missing object with 403 (bucket.ts says so).
 *
 * **The marker** `ARCHIVE#<YYYY-MM>` / `ARCHIVE` is written after all of the month's objects,
 * with this run's counts, `archivedAt` and `final`; a month with a final marker is skipped unless
 * forced. A run that fails half-way writes no marker: the next night does the month again.
 *
 * **Restore** puts each archived row back with `attribute_not_exists(pk)` (a row still in the
 * table, possibly newer, is never overwritten), its gsi1 keys recomputed from the row as the
 * stores build them, no gsi2 (sync or outbox work: archived rows are done, and a six-month-old
 * queued send must not go out), and a fresh `expiresAt` = now + retention, so the restored history
 * can be read for another retention period (it is still in the archive when TTL removes it again).
 */
import type { Item, TableClient } from '../store/client.ts';
import { keys } from '../store/keys.ts';
import { TABLE } from '../resources.ts';
import { readBytes, type ArchiveBucket } from './bucket.ts';
import { ARCHIVE_CONTENT_TYPE, DEFAULT_GZIP_LEVEL, archiveMetadata, decodeArchive, encodeRows, type EncodedArchive, type Row } from './codec.ts';
import { HISTORY_PARTITION_PREFIX, HISTORY_ROW_PREFIXES, HISTORY_SORT_PREFIX, archiveKey, archiveMarkerKey, isArchivableContactId } from './keys.ts';
import { DEFAULT_LEAD_DAYS, isFinalArchive, isMonth, mayHaveExpired, monthEnd, monthStart, monthsDue } from './months.ts';

export { monthsDue, isFinalArchive, dueFrom, dueUntil, monthOf, monthStart, monthEnd, DEFAULT_LEAD_DAYS } from './months.ts';
export { archiveKey, archiveMarkerKey } from './keys.ts';
export { ArchiveIntegrityError } from './codec.ts';

export interface ArchiveDeps {
  readonly table: TableClient;
  readonly bucket: ArchiveBucket;
  readonly now: () => number;
}

export interface ArchiveOptions {
  /** Archive the month again even though its marker is final. */
  readonly force?: boolean;
  readonly leadDays?: number;
  /** Parallel scan segments (default 4). */
  readonly segments?: number;
  /** Contacts archived at once (default 8). */
  readonly concurrency?: number;
  readonly gzipLevel?: number;
}

export interface ArchiveSummary {
  readonly month: string;
  readonly contacts: number;
  readonly rows: number;
  /** Uncompressed JSON Lines bytes of this run's objects, and their gzip bytes. */
  readonly bytesRaw: number;
  readonly bytesGzip: number;
  /** bytesGzip / bytesRaw: 0.25 is −75 %. */
  readonly ratio: number;
  readonly objectsWritten: number;
  /** Objects already holding exactly these rows (not written again). */
  readonly objectsUnchanged: number;
  /** Rows kept from an earlier archive that are no longer in the table. */
  readonly rowsFromEarlierArchive: number;
  readonly final: boolean;
  /** Set when nothing was done, and why. */
  readonly skipped?: string;
}

export interface ArchiveMarker {
  readonly month: string;
  readonly archivedAt: number;
  readonly final: boolean;
  readonly contacts: number;
  readonly rows: number;
  readonly bytesRaw: number;
  readonly bytesGzip: number;
  readonly objectsWritten: number;
}

export class ArchiveNotFoundError extends Error {
  override readonly name = 'ArchiveNotFoundError';
}

const DEFAULT_SEGMENTS = 4;
const DEFAULT_CONCURRENCY = 8;
const RESTORE_CONCURRENCY = 16;

function requireMonth(month: string): void {
  if (!isMonth(month)) throw new Error(`a month is written YYYY-MM (e.g. 2026-03), got "${month}"`);
}

/** The gsi1 sort-key range of a month: [MSG#<start>, MSG#<end>] holds exactly the month's rows (a key at `end` sorts after it). */
function monthRange(month: string): { ':from': string; ':to': string } {
  return {
    ':from': `${HISTORY_SORT_PREFIX}${new Date(monthStart(month)).toISOString()}`,
    ':to': `${HISTORY_SORT_PREFIX}${new Date(monthEnd(month)).toISOString()}`,
  };
}

const HISTORY_ROW_FILTER = '(begins_with(pk, :msg) OR begins_with(pk, :out))';
const HISTORY_ROW_VALUES = { ':msg': HISTORY_ROW_PREFIXES.message, ':out': HISTORY_ROW_PREFIXES.outbound };

/** The contacts with history rows in the month: one filtered parallel scan, only gsi1pk read back. */
export async function contactsOfMonth(table: TableClient, month: string, segments = DEFAULT_SEGMENTS): Promise<string[]> {
  const contacts = new Set<string>();
  const scanSegment = async (segment: number) => {
    for await (const page of table.scanPages({
      Segment: segment,
      TotalSegments: segments,
      FilterExpression: `${HISTORY_ROW_FILTER} AND gsi1sk BETWEEN :from AND :to`,
      ProjectionExpression: 'gsi1pk',
      ExpressionAttributeValues: { ...HISTORY_ROW_VALUES, ...monthRange(month) },
    })) {
      for (const item of page.items) {
        const partition = item['gsi1pk'];
        if (typeof partition === 'string' && partition.startsWith(HISTORY_PARTITION_PREFIX)) contacts.add(partition.slice(HISTORY_PARTITION_PREFIX.length));
      }
    }
  };
  await Promise.all(Array.from({ length: segments }, (_, segment) => scanSegment(segment)));
  return [...contacts].sort();
}

/** One contact's rows of the month, through its history partition (gsi1). */
export async function contactMonthRows(table: TableClient, contactId: string, month: string): Promise<Item[]> {
  const rows: Item[] = [];
  for await (const item of table.query({
    IndexName: TABLE.indexes.byContact.name,
    KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
    FilterExpression: HISTORY_ROW_FILTER,
    ExpressionAttributeValues: { ':pk': keys.historyPartition(contactId), ...HISTORY_ROW_VALUES, ...monthRange(month) },
  })) {
    rows.push(item);
  }
  return rows;
}

/** An archived object's rows, verified; undefined when there is none. */
async function readArchive(bucket: ArchiveBucket, key: string): Promise<{ rows: Row[]; sha256: string } | undefined> {
  const object = await bucket.getObject(key);
  if (!object) return undefined;
  const rows = await decodeArchive(key, await readBytes(object.body), object.metadata);
  return { rows, sha256: object.metadata['sha256']! };
}

/** The table's rows plus those only the earlier archive still has (the table's version wins). */
function mergeRows(current: readonly Item[], earlier: readonly Row[]): { rows: Row[]; fromEarlier: number } {
  const present = new Set(current.map((row) => `${String(row['pk'])}|${String(row['sk'])}`));
  const kept = earlier.filter((row) => !present.has(`${String(row['pk'])}|${String(row['sk'])}`));
  return { rows: [...current, ...kept], fromEarlier: kept.length };
}

interface ContactResult {
  readonly encoded: EncodedArchive;
  readonly written: boolean;
  readonly fromEarlier: number;
}

/** One contact's month: read, merged with the earlier object when asked, written unless unchanged. */
async function archiveContact(deps: ArchiveDeps, contactId: string, month: string, merge: boolean, level: number): Promise<ContactResult> {
  const key = archiveKey(contactId, month);
  const current = await contactMonthRows(deps.table, contactId, month);
  const earlier = merge ? await readArchive(deps.bucket, key) : undefined;
  const { rows, fromEarlier } = earlier ? mergeRows(current, earlier.rows) : { rows: current, fromEarlier: 0 };
  const encoded = await encodeRows(rows, level);
  if (earlier?.sha256 === encoded.sha256) return { encoded, written: false, fromEarlier };
  await deps.bucket.putObject(key, encoded.body, {
    contentType: ARCHIVE_CONTENT_TYPE,
    contentEncoding: 'gzip',
    contentLength: encoded.body.length,
    metadata: archiveMetadata(encoded),
  });
  return { encoded, written: true, fromEarlier };
}

/** Runs `work` over `items`, at most `limit` at once; the first failure fails the whole. */
async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

const ratioOf = (gzip: number, raw: number) => (raw ? Math.round((gzip / raw) * 1000) / 1000 : 1);

function readMarker(table: TableClient, month: string): Promise<ArchiveMarker | undefined> {
  return table.get<ArchiveMarker>(archiveMarkerKey(month));
}

/**
 * Archives one UTC month ('YYYY-MM'): every contact's history rows of the month, one object each,
 * then the month's marker. Skipped (with the marker's counts) when a final marker exists, unless forced.
 */
export async function archiveMonth(deps: ArchiveDeps, month: string, options: ArchiveOptions = {}): Promise<ArchiveSummary> {
  requireMonth(month);
  const now = deps.now();
  const leadDays = options.leadDays ?? DEFAULT_LEAD_DAYS;
  const marker = await readMarker(deps.table, month);
  if (marker?.final && !options.force) {
    const { contacts, rows, bytesRaw, bytesGzip } = marker;
    return { month, contacts, rows, bytesRaw, bytesGzip, ratio: ratioOf(bytesGzip, bytesRaw), objectsWritten: 0, objectsUnchanged: 0, rowsFromEarlierArchive: 0, final: true, skipped: `archived at ${new Date(marker.archivedAt).toISOString()}` };
  }
  const merge = marker !== undefined || mayHaveExpired(month, now, deps.table.options.retentionDays);
  const contacts = await contactsOfMonth(deps.table, month, options.segments ?? DEFAULT_SEGMENTS);
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  const results = await eachLimited(contacts, options.concurrency ?? DEFAULT_CONCURRENCY, (contactId) => archiveContact(deps, contactId, month, merge, level));
  const summary = summarise(month, results, isFinalArchive(month, now, leadDays));
  await writeMarker(deps.table, summary, now);
  return summary;
}

function summarise(month: string, results: readonly ContactResult[], final: boolean): ArchiveSummary {
  const sum = (pick: (r: ContactResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const bytesRaw = sum((r) => r.encoded.bytesRaw);
  const bytesGzip = sum((r) => r.encoded.body.length);
  return {
    month,
    contacts: results.length,
    rows: sum((r) => r.encoded.rows),
    bytesRaw,
    bytesGzip,
    ratio: ratioOf(bytesGzip, bytesRaw),
    objectsWritten: sum((r) => (r.written ? 1 : 0)),
    objectsUnchanged: sum((r) => (r.written ? 0 : 1)),
    rowsFromEarlierArchive: sum((r) => r.fromEarlier),
    final,
  };
}

async function writeMarker(table: TableClient, summary: ArchiveSummary, now: number): Promise<void> {
  const marker: ArchiveMarker = {
    month: summary.month,
    archivedAt: now,
    final: summary.final,
    contacts: summary.contacts,
    rows: summary.rows,
    bytesRaw: summary.bytesRaw,
    bytesGzip: summary.bytesGzip,
    objectsWritten: summary.objectsWritten,
  };
  await table.put({ ...archiveMarkerKey(summary.month), ...marker });
}

/** The nightly task: every month due (months.ts), oldest first; months with a final marker are skipped. */
export async function archiveDue(deps: ArchiveDeps, options: ArchiveOptions = {}): Promise<ArchiveSummary[]> {
  const months = monthsDue(deps.now(), deps.table.options.retentionDays, options.leadDays ?? DEFAULT_LEAD_DAYS);
  const summaries: ArchiveSummary[] = [];
  for (const month of months) summaries.push(await archiveMonth(deps, month, options));
  return summaries;
}

export interface RestoreSummary {
  readonly key: string;
  readonly rows: number;
  readonly restored: number;
  /** Rows still (or again) in the table, left as they are. */
  readonly alreadyPresent: number;
}

/** An archived row as a table item again: gsi1 recomputed as the stores build it, a fresh expiry. */
export function restoredItem(row: Row, contactId: string, expiresAt: number): Item {
  const pk = String(row['pk'] ?? '');
  if (row['contactId'] !== contactId) throw new Error(`archived row ${pk} belongs to contact ${String(row['contactId'])}, not ${contactId}: not restored`);
  const outbound = pk.startsWith(HISTORY_ROW_PREFIXES.outbound);
  if (!outbound && !pk.startsWith(HISTORY_ROW_PREFIXES.message)) throw new Error(`archived row ${pk} is not a message or an outbound row: not restored`);
  const at = outbound ? row['createdAt'] : row['sentAt'];
  const id = outbound ? row['id'] : row['wamid'];
  if (typeof at !== 'number' || typeof id !== 'string') throw new Error(`archived row ${pk} lacks its ${outbound ? 'createdAt/id' : 'sentAt/wamid'}: not restored`);
  return { ...row, gsi1pk: keys.historyPartition(contactId), gsi1sk: keys.historySort(at, id), [TABLE.ttlAttribute]: expiresAt };
}

/**
 * Puts a contact's archived month back into the table. Refuses (ArchiveIntegrityError) an object
 * whose content does not match its sha256, before writing anything; ArchiveNotFoundError when
 * there is no archive of that contact and month.
 */
export async function restoreMonth(deps: ArchiveDeps, contactId: string, month: string): Promise<RestoreSummary> {
  requireMonth(month);
  if (!isArchivableContactId(contactId)) throw new Error(`"${contactId}" is not a contact id`);
  const key = archiveKey(contactId, month);
  const archive = await readArchive(deps.bucket, key);
  if (!archive) throw new ArchiveNotFoundError(`no archive of contact ${contactId} for ${month} (${key})`);
  const expiresAt = deps.table.expiresAt(deps.now());
  const items = archive.rows.map((row) => restoredItem(row, contactId, expiresAt));
  const written = await eachLimited(items, RESTORE_CONCURRENCY, (item) => deps.table.put(item, 'attribute_not_exists(pk)'));
  const restored = written.filter(Boolean).length;
  return { key, rows: items.length, restored, alreadyPresent: items.length - restored };
}
