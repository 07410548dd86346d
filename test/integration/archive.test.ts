/**
 * The archive against the local services (dynalite, fauxqs S3), ST-2: a month of three contacts'
 * history (with the months either side, which must stay out) archived as one gzip JSON Lines
 * object per contact, rewritten without losing what TTL already took, deleted (TTL), restored for
 * one contact and read back through the byContact index in order; a second restore adds nothing,
 * a tampered object is refused; and the restore CLI against a stack's endpoints.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveIntegrityError, ArchiveNotFoundError, archiveDue, archiveKey, archiveMarkerKey, archiveMonth, dueFrom, restoreMonth, type ArchiveDeps } from '#shared/archive/archive';
import { DataBucket } from '#shared/storage/bucket';
import { historyTime } from '#shared/archive/codec';
import { monthOf } from '#shared/archive/months';
import { sampleContactIds, sampleMonth } from '#shared/archive/sample';
import { createRuntime, type Runtime } from '#shared/runtime';
import type { Item } from '#shared/store/client';
import { startLocalServices, type LocalServices } from '#local/services';

const MONTH = '2026-03';
const SEED = 11;
const NOW = dueFrom(MONTH, 180) + 2 * 3_600_000; // the night March is due: 21 August 2026, 02:00 UTC

let services: LocalServices;
let runtime: Runtime;
let s3: S3Client;
let deps: ArchiveDeps;
const contacts = sampleContactIds(3, SEED);
const written: Item[] = [];

const monthRows = (contactId: string) => written.filter((r) => r['contactId'] === contactId && monthOf(historyTime(r)) === MONTH).sort((a, b) => historyTime(a) - historyTime(b) || String(a['pk']).localeCompare(String(b['pk'])));

async function putAll(items: readonly Item[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) await Promise.all(items.slice(i, i + 25).map((item) => runtime.store.table.put(item)));
}

async function deleteAll(items: readonly Item[]): Promise<void> {
  await Promise.all(items.map((item) => runtime.store.table.delete({ pk: String(item['pk']), sk: String(item['sk']) })));
}

async function object(key: string) {
  const result = await s3.send(new GetObjectCommand({ Bucket: services.names.bucket, Key: key }));
  return { bytes: Buffer.from(await result.Body!.transformToByteArray()), contentType: result.ContentType, contentEncoding: result.ContentEncoding, metadata: result.Metadata ?? {} };
}

const linesOf = (bytes: Buffer) => gunzipSync(bytes).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Item);

beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'archive-secret', WHATSAPP_VERIFY_TOKEN: 'archive-token' }, services.overrides);
  s3 = new S3Client(services.clients.s3Config);
  deps = { table: runtime.store.table, bucket: new DataBucket(services.clients.s3Config, services.names.bucket), now: () => NOW };
  for (const month of ['2026-02', MONTH, '2026-04']) written.push(...sampleMonth(3, SEED, month));
  await putAll(written);
});

afterAll(async () => {
  s3?.destroy();
  await services?.stop();
});

describe('archiving a month', () => {
  it('writes one gzip JSON Lines object per contact with that month’s rows only, both directions, oldest first', async () => {
    const summary = await archiveMonth(deps, MONTH);
    const expectedRows = contacts.reduce((n, c) => n + monthRows(c).length, 0);
    expect(summary).toMatchObject({ month: MONTH, contacts: 3, rows: expectedRows, objectsWritten: 3, objectsUnchanged: 0, final: true });
    expect(summary.ratio).toBeGreaterThan(0);
    expect(summary.ratio).toBeLessThan(0.5);
    expect(summary.bytesGzip).toBeLessThan(summary.bytesRaw);

    for (const contactId of contacts) {
      const stored = await object(archiveKey(contactId, MONTH));
      expect(stored.contentType).toBe('application/x-ndjson');
      expect(stored.contentEncoding).toBe('gzip');
      const lines = linesOf(stored.bytes);
      expect(stored.metadata).toMatchObject({ rows: String(lines.length), format: 'scrm-history-v1' });
      expect(stored.metadata['sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(lines.map((l) => l['pk'])).toEqual(monthRows(contactId).map((r) => r['pk']));
      expect(lines.every((l) => monthOf(historyTime(l)) === MONTH && !('gsi1pk' in l) && !('expiresAt' in l))).toBe(true);
      expect(new Set(lines.map((l) => String(l['pk']).split('#')[0]))).toEqual(new Set(['MESSAGE', 'OUTBOUND']));
      // The neighbouring months' rows are in the table, in no archive yet.
      for (const month of ['2026-02', '2026-04']) expect(await deps.bucket.getObject(archiveKey(contactId, month))).toBeUndefined();
    }
  });

  it('records the month’s marker after its objects; a second run skips the month', async () => {
    const marker = await runtime.store.table.get<Record<string, unknown>>(archiveMarkerKey(MONTH));
    expect(marker).toMatchObject({ month: MONTH, archivedAt: NOW, final: true, contacts: 3, objectsWritten: 3 });
    expect(await archiveMonth(deps, MONTH)).toMatchObject({ skipped: expect.stringMatching(/^archived at 2026-08-21/), objectsWritten: 0 });
  });

  it('forced again with nothing changed: the same bytes, nothing written', async () => {
    const before = await Promise.all(contacts.map((c) => object(archiveKey(c, MONTH))));
    expect(await archiveMonth(deps, MONTH, { force: true })).toMatchObject({ contacts: 3, objectsWritten: 0, objectsUnchanged: 3 });
    const after = await Promise.all(contacts.map((c) => object(archiveKey(c, MONTH))));
    after.forEach((o, i) => expect(o.bytes.equals(before[i]!.bytes)).toBe(true));
  });

  it('a rewrite after TTL took some rows and a late status changed another keeps every row, with the newer one', async () => {
    const rows = monthRows(contacts[0]!);
    const expired = rows.slice(0, Math.floor(rows.length / 2));
    const late = rows.at(-1)!;
    expect(expired.length).toBeGreaterThan(0);
    await deleteAll(expired);
    await runtime.store.table.update({ pk: String(late['pk']), sk: String(late['sk']) }, { update: 'SET #s = :read, statusAt_read = :at', names: { '#s': 'status' }, values: { ':read': 'read', ':at': NOW - 1000 } });

    const summary = await archiveMonth(deps, MONTH, { force: true });
    expect(summary).toMatchObject({ objectsWritten: 1, objectsUnchanged: 2, rowsFromEarlierArchive: expired.length });
    const lines = linesOf((await object(archiveKey(contacts[0]!, MONTH))).bytes);
    expect(lines.map((l) => l['pk'])).toEqual(rows.map((r) => r['pk']));
    expect(lines.find((l) => l['pk'] === late['pk'])).toMatchObject({ status: 'read', statusAt_read: NOW - 1000 });
  });
});

describe('restoring a contact’s month', () => {
  it('puts the rows back, readable through the byContact index in order, with a fresh expiry and no work entry', async () => {
    await deleteAll(contacts.flatMap(monthRows)); // TTL took the month
    const [contactId] = contacts;
    const rows = monthRows(contactId!);
    const restoreNow = NOW + 30 * 86_400_000;
    const result = await restoreMonth({ ...deps, now: () => restoreNow }, contactId!, MONTH);
    expect(result).toEqual({ key: archiveKey(contactId!, MONTH), rows: rows.length, restored: rows.length, alreadyPresent: 0 });

    const history = await runtime.store.messages.history(contactId!);
    const march = history.filter((h) => monthOf(historyTime(h as unknown as Item)) === MONTH);
    // The index orders by gsi1sk (time, then id): the restored month sits between February and April.
    expect(march.map((h) => (h as unknown as Item)['wamid'] ?? (h as unknown as Item)['id'])).toEqual(rows.map((r) => r['wamid'] ?? r['id']));
    expect(history.map((h) => historyTime(h as unknown as Item))).toEqual([...history.map((h) => historyTime(h as unknown as Item))].sort((a, b) => a - b));
    expect(history.map((h) => monthOf(historyTime(h as unknown as Item)))).toEqual(expect.arrayContaining(['2026-02', '2026-03', '2026-04']));

    const item = (await runtime.clients.documents.send(new GetCommand({ TableName: services.names.table, Key: { pk: rows[0]!['pk'], sk: rows[0]!['sk'] } }))).Item!;
    expect(item['expiresAt']).toBe(runtime.store.table.expiresAt(restoreNow));
    expect(item).not.toHaveProperty('gsi2pk');
    expect(item['gsi1sk']).toBe(rows[0]!['gsi1sk']);
  });

  it('restoring twice restores nothing new', async () => {
    const rows = monthRows(contacts[0]!);
    expect(await restoreMonth(deps, contacts[0]!, MONTH)).toMatchObject({ rows: rows.length, restored: 0, alreadyPresent: rows.length });
  });

  it('a tampered archive is refused before anything is written', async () => {
    const contactId = contacts[1]!;
    const key = archiveKey(contactId, MONTH);
    const original = await object(key);
    const text = gunzipSync(original.bytes).toString('utf8').replace('"direction":"inbound"', '"direction":"outbound"');
    const { gzipSync } = await import('node:zlib');
    await s3.send(new PutObjectCommand({ Bucket: services.names.bucket, Key: key, Body: gzipSync(text), ContentType: 'application/x-ndjson', ContentEncoding: 'gzip', Metadata: original.metadata }));

    const attempt = restoreMonth(deps, contactId, MONTH);
    await expect(attempt).rejects.toThrow(ArchiveIntegrityError);
    await expect(restoreMonth(deps, contactId, MONTH)).rejects.toThrow(`${key} does not match its sha256`);
    const history = await runtime.store.messages.history(contactId);
    expect(history.filter((h) => monthOf(historyTime(h as unknown as Item)) === MONTH)).toHaveLength(0);
    await s3.send(new PutObjectCommand({ Bucket: services.names.bucket, Key: key, Body: original.bytes, ContentType: 'application/x-ndjson', ContentEncoding: 'gzip', Metadata: original.metadata }));
  });

  it('no archive of that contact and month: a clear error', async () => {
    await expect(restoreMonth(deps, contacts[0]!, '2025-01')).rejects.toThrow(ArchiveNotFoundError);
    await expect(restoreMonth(deps, contacts[0]!, '2025-01')).rejects.toThrow(`no archive of contact ${contacts[0]} for 2025-01 (archive/${contacts[0]}/2025-01.jsonl.gz)`);
  });
});

describe('the nightly task', () => {
  it('archives every month due that has no final marker, oldest first: February now, March skipped', async () => {
    const february = contacts.reduce((n, c) => n + written.filter((r) => r['contactId'] === c && monthOf(historyTime(r)) === '2026-02').length, 0);
    const [feb, mar] = await archiveDue(deps);
    expect(feb).toMatchObject({ month: '2026-02', contacts: 3, rows: february, objectsWritten: 3, final: true });
    expect(mar).toMatchObject({ month: MONTH, skipped: expect.stringMatching(/^archived at/) });
    expect(await archiveDue(deps)).toEqual([expect.objectContaining({ month: '2026-02', skipped: expect.any(String) }), expect.objectContaining({ month: MONTH, skipped: expect.any(String) })]);
  });
});

describe('npm run archive:restore', () => {
  let stack: Server;
  let url: string;
  beforeAll(async () => {
    // What `npm start` answers at /local/endpoints, for these services.
    stack = createServer((req, res) => {
      if (req.url !== '/local/endpoints') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...services.overrides, tableName: services.names.table }));
    });
    await new Promise<void>((resolve) => stack.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(stack.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => stack.close(() => resolve())));

  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const { SCRM_TABLE_NAME: _table, SCRM_BUCKET_NAME: _bucket, ...inherited } = process.env;
      const env = { ...inherited, SCRM_URL: url };
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/archive-restore.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('restores a contact’s month from the local stack and prints one JSON line; again, nothing new', async () => {
    const contactId = contacts[2]!;
    const rows = monthRows(contactId).length;
    const first = await run([contactId, MONTH]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ contactId, month: MONTH, rows, restored: rows, alreadyPresent: 0 });
    expect(JSON.parse((await run([contactId, MONTH])).stdout)).toMatchObject({ restored: 0, alreadyPresent: rows });
  }, 60_000);

  it('exit 2 with the reason: a missing argument, a malformed month, no such archive', async () => {
    const missing = await run([contacts[0]!]);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/usage: npm run archive:restore -- <contactId> <YYYY-MM>\n {2}missing the month/);
    const malformed = await run([contacts[0]!, '2026-3']);
    expect(malformed).toMatchObject({ code: 2 });
    expect(malformed.stderr).toMatch(/the month is written YYYY-MM \(e\.g\. 2026-03\), got "2026-3"/);
    const none = await run([contacts[0]!, '2025-01']);
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toContain(`no archive of contact ${contacts[0]} for 2025-01`);
  }, 60_000);
});
