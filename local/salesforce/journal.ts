/**
 * How the local org's data survives a restart: a JSON data file plus a journal of changes
 * (`<file>.log`, one JSON line per committed record change), so a write costs what it changed.
 * At start the file and the journal are read (a last line cut short by a crash is dropped) and
 * made one again; every {@link COMPACT_AFTER} changes the file is written anew (tmp + rename)
 * and the journal emptied. Replaying both again is harmless.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Data, StoredRecord } from './store.ts';

export type JournalEntry = { readonly k: 'put'; readonly r: StoredRecord; readonly seq: number } | { readonly k: 'del'; readonly object: string; readonly id: string };

const COMPACT_AFTER = 20_000;

export class Journal {
  private writer: Promise<void> | undefined;
  private pending: JournalEntry[] = [];
  private journalled = 0;

  constructor(
    private readonly file: string,
    /** The data as it is now (what a compaction writes). */
    private readonly data: () => Data,
  ) {}

  /** The data on disk over `empty` (the objects of the schema). */
  async load(empty: Data): Promise<Data> {
    let data = empty;
    try {
      const loaded = JSON.parse(await readFile(this.file, 'utf8')) as Partial<Data>;
      data = { seq: loaded.seq ?? 0, records: { ...empty.records, ...loaded.records }, deleted: loaded.deleted ?? {} };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await this.replay(data);
    await mkdir(dirname(this.file), { recursive: true });
    await this.compact(data);
    return data;
  }

  /** Resolves when every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writer ?? Promise.resolve();
  }

  /** Keeps a change; changes made while an append is under way go out together in the next one. */
  append(entry: JournalEntry): void {
    this.pending.push(entry);
    this.writer ??= (async () => {
      try {
        while (this.pending.length) {
          const entries = this.pending;
          this.pending = [];
          await appendFile(`${this.file}.log`, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`, 'utf8');
          this.journalled += entries.length;
          if (this.journalled >= COMPACT_AFTER) await this.compact(this.data());
        }
      } finally {
        this.writer = undefined;
      }
    })();
  }

  private async compact(data: Data): Promise<void> {
    const tmp = `${this.file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(data), 'utf8');
    await rename(tmp, this.file);
    // What changed meanwhile is not in the snapshot for certain: it stays journalled.
    const rest = this.pending;
    this.pending = [];
    await writeFile(`${this.file}.log`, rest.length ? `${rest.map((e) => JSON.stringify(e)).join('\n')}\n` : '', 'utf8');
    this.journalled = rest.length;
  }

  private async replay(data: Data): Promise<void> {
    let text: string;
    try {
      text = await readFile(`${this.file}.log`, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // the last change, cut short by a crash before it was answered
      }
      if (entry.k === 'put') {
        (data.records[entry.r.object] ??= {})[entry.r.Id] = entry.r;
        delete data.deleted[entry.r.Id];
        data.seq = Math.max(data.seq, entry.seq);
      } else {
        delete data.records[entry.object]?.[entry.id];
        data.deleted[entry.id] = entry.object;
      }
    }
  }
}
