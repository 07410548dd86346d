/**
 * The archive's rules without services (ST-2): which months are due (a missed night, the final
 * marker, a short retention), the object's bytes (deterministic, verifiable, gzip without mtime),
 * the key layout, the row put back on restore, and the sample's shape.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArchiveIntegrityError, archiveKey, archiveMarkerKey, archiveMonth, dueFrom, dueUntil, isFinalArchive, monthsDue, restoredItem, type ArchiveDeps } from '#shared/archive/archive';
import { archiveMetadata, archivedRow, decodeArchive, encodeRows, rowLine, sortRows } from '#shared/archive/codec';
import { monthEnd, monthOf, monthStart } from '#shared/archive/months';
import { sampleContactIds, sampleMonth } from '#shared/archive/sample';
import type { TableClient } from '#shared/store/client';
import { keys } from '#shared/store/keys';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);

describe('monthsDue: a month is archived a week before TTL starts removing it', () => {
  it('March 2026 with 180 days kept is due from 21 August (1 March + 173 days), not the night before', () => {
    expect(dueFrom('2026-03', 180)).toBe(at('2026-08-21T00:00:00Z'));
    expect(monthsDue(at('2026-08-20T23:59:59Z'), 180)).not.toContain('2026-03');
    expect(monthsDue(at('2026-08-21T01:45:00Z'), 180)).toContain('2026-03');
  });

  it('a missed night is caught up: the month stays due until its last rows have expired', () => {
    // The job did not run on 21 August; on the 22nd (and every night up to the window's end) March is still due.
    expect(monthsDue(at('2026-08-22T01:45:00Z'), 180)).toContain('2026-03');
    expect(monthsDue(at('2026-09-26T01:45:00Z'), 180)).toContain('2026-03');
    // 1 April + 180 days: every March row has expired, nothing left in the table to save.
    expect(dueUntil('2026-03', 180)).toBe(at('2026-09-28T00:00:00Z'));
    expect(monthsDue(at('2026-09-28T01:45:00Z'), 180)).not.toContain('2026-03');
  });

  it('every earlier month still in its window is listed too, oldest first (the caller skips those with a final marker)', () => {
    expect(monthsDue(at('2026-08-21T01:45:00Z'), 180)).toEqual(['2026-02', '2026-03']);
    expect(monthsDue(at('2026-08-10T01:45:00Z'), 180)).toEqual(['2026-02']);
  });

  it('the lead is configurable: with no lead the month is due the day its first rows expire', () => {
    expect(monthsDue(at('2026-08-27T12:00:00Z'), 180, 0)).not.toContain('2026-03');
    expect(monthsDue(at('2026-08-28T00:00:00Z'), 180, 0)).toContain('2026-03');
  });

  it('a lead as long as the retention, or a retention of no days, is refused', () => {
    expect(() => monthsDue(Date.now(), 30, 30)).toThrow(/leadDays must be 0 or more and less than the retention/);
    expect(() => monthsDue(Date.now(), 0)).toThrow(/retentionDays/);
  });

  it('the marker is final once written a lead after the month ended: with 180 days the first run already is', () => {
    expect(isFinalArchive('2026-03', dueFrom('2026-03', 180))).toBe(true);
  });

  it('with the shortest retention (30 days) a month is due before it is over and rewritten nightly until a final run', () => {
    const due = dueFrom('2026-03', 30);
    expect(due).toBe(at('2026-03-24T00:00:00Z'));
    expect(monthsDue(due, 30)).toContain('2026-03');
    expect(isFinalArchive('2026-03', due)).toBe(false);
    expect(isFinalArchive('2026-03', at('2026-04-07T23:59:59Z'))).toBe(false);
    expect(isFinalArchive('2026-03', at('2026-04-08T00:00:00Z'))).toBe(true);
  });

  it('months are UTC: the last millisecond of March is March, the next is April', () => {
    expect(monthOf(monthEnd('2026-03') - 1)).toBe('2026-03');
    expect(monthOf(monthEnd('2026-03'))).toBe('2026-04');
    expect(monthStart('2026-12')).toBe(at('2026-12-01T00:00:00Z'));
    expect(monthEnd('2026-12')).toBe(at('2027-01-01T00:00:00Z'));
    expect(() => monthStart('2026-3')).toThrow(/YYYY-MM/);
  });
});

describe('a month with a final marker is skipped unless forced', () => {
  const marker = { month: '2026-03', archivedAt: at('2026-08-21T01:45:00Z'), final: true, contacts: 3, rows: 40, bytesRaw: 40_000, bytesGzip: 10_000, objectsWritten: 3 };
  const deps = (stored: object | undefined): ArchiveDeps => ({
    table: {
      options: { tableName: 't', retentionDays: 180 },
      get: async () => stored,
      scanPages: () => {
        throw new Error('scanned');
      },
    } as unknown as TableClient,
    bucket: { putObject: async () => undefined, getObject: async () => undefined },
    now: () => at('2026-08-22T01:45:00Z'),
  });

  it('skipped with the counts the marker recorded, nothing read', async () => {
    expect(await archiveMonth(deps(marker), '2026-03')).toMatchObject({ skipped: 'archived at 2026-08-21T01:45:00.000Z', contacts: 3, rows: 40, ratio: 0.25, objectsWritten: 0 });
  });

  it('a marker that is not final, none, or force: the month is archived (here: the scan starts)', async () => {
    await expect(archiveMonth(deps({ ...marker, final: false }), '2026-03')).rejects.toThrow('scanned');
    await expect(archiveMonth(deps(undefined), '2026-03')).rejects.toThrow('scanned');
    await expect(archiveMonth(deps(marker), '2026-03', { force: true })).rejects.toThrow('scanned');
  });
});

describe('the object: gzip JSON Lines, the same bytes for the same rows', () => {
  const rows = sampleMonth(1, 3);
  const shuffled = (items: readonly Record<string, unknown>[]) =>
    [...items].reverse().map((item) => Object.fromEntries(Object.entries(item).reverse()));

  it('rows in any order, attributes in any order: byte for byte the same object', async () => {
    const a = await encodeRows(rows);
    const b = await encodeRows(shuffled(rows));
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.sha256).toBe(b.sha256);
    expect(a.rows).toBe(rows.length);
  });

  it('small objects in one zlib call, large ones streamed: the same bytes either way', async () => {
    const many = sampleMonth(40, 9);
    const whole = await encodeRows(many, 9, Number.POSITIVE_INFINITY);
    const streamed = await encodeRows(many, 9, 0);
    expect(whole.bytesRaw).toBeGreaterThan(128 * 1024); // several 64 KiB chunks
    expect(streamed.body.equals(whole.body)).toBe(true);
    expect(streamed).toMatchObject({ sha256: whole.sha256, bytesRaw: whole.bytesRaw, rows: whole.rows });
  });

  it('the gzip header names no file and carries mtime 0 (node:zlib), so the time of the run is not in the bytes', async () => {
    const { body } = await encodeRows(rows);
    expect([...body.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
    expect(body[3]).toBe(0); // FLG: no FNAME, FCOMMENT, FEXTRA
    expect(body.readUInt32LE(4)).toBe(0); // MTIME
    expect(body[8]).toBe(2); // XFL: maximum compression (level 9)
  });

  it('a line is the row as stored minus gsi1/gsi2 and expiresAt, keys sorted, oldest first; the sha256 is of the uncompressed lines', async () => {
    const encoded = await encodeRows(rows);
    const text = gunzipSync(encoded.body).toString('utf8');
    const lines = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(rows.length);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual([...Object.keys(line)].sort());
      expect(line).toHaveProperty('pk');
      expect(line).toHaveProperty('sk');
      for (const gone of ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt']) expect(line).not.toHaveProperty(gone);
    }
    expect(lines.map((l) => l['pk'])).toEqual(sortRows(rows).map((r) => r['pk']));
    expect(encoded.bytesRaw).toBe(Buffer.byteLength(text));
  });

  it('decodes back to the archived rows, sets and binary included', async () => {
    const odd = { ...rows[0]!, tags: new Set(['b', 'a']), blob: new Uint8Array([1, 2, 3]) };
    const encoded = await encodeRows([odd]);
    const [back] = await decodeArchive('k', encoded.body, archiveMetadata(encoded));
    expect(back).toEqual(archivedRow(odd));
    expect(back!['tags']).toBeInstanceOf(Set);
    expect(rowLine(archivedRow(odd))).toContain('"tags":{"$set":["a","b"]}');
  });

  it('accepts lines a proxy already inflated (Content-Encoding), still checked against the sha256', async () => {
    const encoded = await encodeRows(rows);
    expect(await decodeArchive('k', gunzipSync(encoded.body), archiveMetadata(encoded))).toHaveLength(rows.length);
  });

  it('refuses a changed object, a wrong row count, and one without the archive metadata', async () => {
    const encoded = await encodeRows(rows);
    const changed = Buffer.from(gunzipSync(encoded.body).toString('utf8').replace('inbound', 'outbound'));
    await expect(decodeArchive('archive/x/2026-03.jsonl.gz', changed, archiveMetadata(encoded))).rejects.toThrow(ArchiveIntegrityError);
    await expect(decodeArchive('archive/x/2026-03.jsonl.gz', changed, archiveMetadata(encoded))).rejects.toThrow(/archive\/x\/2026-03.jsonl.gz does not match its sha256/);
    await expect(decodeArchive('k', encoded.body, { ...archiveMetadata(encoded), rows: '1' })).rejects.toThrow(/holds \d+ rows, its metadata says 1/);
    await expect(decodeArchive('k', encoded.body, {})).rejects.toThrow(/no sha256 in its metadata/);
  });

  it('a value JSON cannot keep is named', () => {
    expect(() => rowLine({ pk: 'MESSAGE#w', n: Number.NaN })).toThrow(/attribute MESSAGE#w.n is NaN/);
  });
});

describe('key layout', () => {
  it('one object per contact and month under archive/, one marker item per month', () => {
    expect(archiveKey('ct_79M1j8TL95N9PouKrZHYYg', '2026-03')).toBe('archive/ct_79M1j8TL95N9PouKrZHYYg/2026-03.jsonl.gz');
    expect(archiveMarkerKey('2026-03')).toEqual({ pk: 'ARCHIVE#2026-03', sk: 'ARCHIVE' });
  });

  it('a contact id that would change the key, or a malformed month, is refused', () => {
    expect(() => archiveKey('ct/../x', '2026-03')).toThrow(/cannot name an archive object/);
    expect(() => archiveKey('ct_a', '2026-13')).toThrow(/YYYY-MM/);
  });
});

describe('restored rows', () => {
  const rows = sampleMonth(2, 5);
  const [contactId] = sampleContactIds(2, 5);

  it('get back the gsi1 keys the stores wrote, a fresh expiry, and no work-index entry', () => {
    const now = at('2026-10-01T00:00:00Z');
    const expiresAt = Math.floor((now + 180 * DAY) / 1000);
    for (const stored of rows.filter((r) => r['contactId'] === contactId)) {
      const item = restoredItem(archivedRow(stored), contactId!, expiresAt);
      expect(item['gsi1pk']).toBe(stored['gsi1pk']);
      expect(item['gsi1sk']).toBe(stored['gsi1sk']);
      expect(item['expiresAt']).toBe(expiresAt);
      expect(item).not.toHaveProperty('gsi2pk');
    }
  });

  it("a row of another contact is refused", () => {
    const other = rows.find((r) => r['contactId'] !== contactId)!;
    expect(() => restoredItem(archivedRow(other), contactId!, 0)).toThrow(/belongs to contact .* not ct_/);
  });
});

describe('the sample month', () => {
  it('is the same for the same seed, another for another seed, and stays inside its month', () => {
    expect(sampleMonth(20, 1)).toEqual(sampleMonth(20, 1));
    expect(sampleMonth(20, 2)).not.toEqual(sampleMonth(20, 1));
    for (const row of sampleMonth(50, 1, '2026-02')) expect(monthOf(String(row['pk']).startsWith('OUTBOUND#') ? (row['createdAt'] as number) : (row['sentAt'] as number))).toBe('2026-02');
  });

  it('holds rows shaped like the stored ones: raw webhook JSON, analysis, media outcomes, outbox rows with pricing', () => {
    const rows = sampleMonth(100, 1);
    const inbound = rows.filter((r) => r['direction'] === 'inbound');
    const outboxRows = rows.filter((r) => String(r['pk']).startsWith('OUTBOUND#'));
    expect(inbound.every((r) => (JSON.parse(String(r['raw'])) as { id: string }).id === r['wamid'])).toBe(true);
    expect(inbound.some((r) => (r['media'] as { state?: string } | undefined)?.state === 'stored')).toBe(true);
    expect(inbound.filter((r) => r['text']).every((r) => typeof (r['analysis'] as { intent?: string }).intent === 'string')).toBe(true);
    expect(outboxRows.some((r) => (r['pricing'] as { billable?: boolean } | undefined)?.billable === true)).toBe(true);
    expect(outboxRows.every((r) => r['gsi1sk'] === keys.historySort(r['createdAt'] as number, r['id'] as string))).toBe(true);
    const text = rows.map((r) => String(r['text'] ?? '')).join(' ');
    expect(text).toMatch(/[\u4e00-\u9fff]/);
    expect(text).toMatch(/\p{Extended_Pictographic}/u);
    expect(text).toMatch(/#HK\d{8}/);
  });
});
