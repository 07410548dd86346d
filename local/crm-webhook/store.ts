/**
 * What the local webhook receiver keeps: every event it accepted (once per webhook-id, in the
 * order received) and, built from them, the records a Zap or scenario would have made of them —
 * contacts by our contactId, messages by wamid, opportunities, tasks and service reports by
 * their ids. Only the events are persisted (JSON data file, tmp + rename); the records are
 * replayed from them on load, so they cannot drift apart.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** An event as the receiver accepted it. */
export interface ReceivedEvent {
  /** The `webhook-id` header. */
  readonly id: string;
  /** `type` of the body. */
  readonly type: string;
  /** The `webhook-timestamp` header (unix seconds) of the accepted delivery. */
  readonly webhookTimestamp: number;
  /** When it was accepted (ms). */
  readonly receivedAt: number;
  /** The body, parsed: `{ type, timestamp, data }`. */
  readonly payload: { readonly type: string; readonly timestamp: string; readonly data: Record<string, unknown> };
}

export interface ReceiverContact {
  readonly id: string;
  bsuid?: string | undefined;
  phone?: string | undefined;
  previousBsuids: string[];
  previousPhones: string[];
  username?: string | undefined;
  profileName?: string | undefined;
  lastInteractionAt?: string | undefined;
  leadSource?: string | undefined;
  fields: Record<string, unknown>;
  /** Envelope timestamp of the last event applied: an older one does not overwrite a newer state. */
  appliedAt: string;
  /** Events that touched it. */
  events: number;
}

export interface ReceiverMessage {
  readonly id: string;
  readonly wamid: string;
  readonly contactId: string;
  readonly direction: string;
  readonly body: string;
  readonly timestamp: string;
  readonly conversationId?: string | undefined;
}

export interface ReceiverOpportunity {
  readonly id: string;
  readonly opportunityId: string;
  readonly contactId: string;
  readonly sku?: string | undefined;
  readonly productName?: string | undefined;
  readonly amount?: number | undefined;
  readonly currency?: string | undefined;
}

export interface ReceiverTask {
  readonly id: string;
  readonly taskId: string;
  readonly contactId: string;
  readonly subject: string;
  readonly dueAt?: string | undefined;
}

export interface ReceiverReport {
  readonly id: string;
  readonly reportId: string;
  readonly data: Record<string, unknown>;
}

interface StoreFile {
  readonly version: 1;
  readonly secret: string;
  readonly events: ReceivedEvent[];
  readonly duplicates: number;
}

export class ReceiverStore {
  readonly contacts = new Map<string, ReceiverContact>();
  readonly messages = new Map<string, ReceiverMessage>();
  readonly opportunities = new Map<string, ReceiverOpportunity>();
  readonly tasks = new Map<string, ReceiverTask>();
  readonly reports = new Map<string, ReceiverReport>();
  private readonly events: ReceivedEvent[] = [];
  private readonly seen = new Set<string>();
  duplicates = 0;
  /** Writes of the data file: one at a time, the next one taking every change made meanwhile. */
  private writing: Promise<void> | undefined;
  private pending: Promise<void> | undefined;

  constructor(
    public secret: string,
    private readonly dataFile: string | undefined,
  ) {}

  /** Reads the data file if there is one; its secret wins over a generated one (not over a given one). */
  async load(options: { readonly keepGivenSecret: boolean }): Promise<void> {
    if (!this.dataFile) return;
    let text: string;
    try {
      text = await readFile(this.dataFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const data = JSON.parse(text) as Partial<StoreFile>;
    if (!options.keepGivenSecret && typeof data.secret === 'string') this.secret = data.secret;
    for (const event of data.events ?? []) this.accept(event);
    this.duplicates = data.duplicates ?? 0;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** Keeps the event and applies it to the records; false (and nothing changes) for an id already taken. */
  accept(event: ReceivedEvent): boolean {
    if (this.seen.has(event.id)) return false;
    this.seen.add(event.id);
    this.events.push(event);
    this.apply(event);
    return true;
  }

  allEvents(): ReceivedEvent[] {
    return [...this.events];
  }

  /** Resolves once every change made so far is in the data file. */
  flushed(): Promise<void> {
    if (!this.dataFile) return Promise.resolve();
    if (!this.pending) {
      // After the write under way (failed or not): it may have started before this change.
      const after = (this.writing ?? Promise.resolve()).catch(() => undefined);
      this.pending = after.then(() => {
        this.pending = undefined;
        this.writing = this.write();
        return this.writing;
      });
    }
    return this.pending;
  }

  private async write(): Promise<void> {
    const file = this.dataFile!;
    const data: StoreFile = { version: 1, secret: this.secret, events: this.events, duplicates: this.duplicates };
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(data), 'utf8');
    await rename(tmp, file);
  }

  private apply(event: ReceivedEvent): void {
    const { data, timestamp } = event.payload;
    switch (event.payload.type) {
      case 'contact.upserted':
        return this.applyContact(data, timestamp, true);
      case 'contacts.updated':
        for (const entry of Array.isArray(data.contacts) ? data.contacts : []) {
          if (entry && typeof entry === 'object') this.applyContact(entry as Record<string, unknown>, timestamp, false);
        }
        return;
      case 'message.logged': {
        const wamid = text(data.wamid);
        if (!wamid || this.messages.has(wamid)) return;
        const conversation = data.conversation as Record<string, unknown> | undefined;
        this.messages.set(wamid, {
          id: event.id,
          wamid,
          contactId: text(data.contactId) ?? '',
          direction: text(data.direction) ?? '',
          body: text(data.body) ?? '',
          timestamp: text(data.timestamp) ?? '',
          conversationId: text(conversation?.id),
        });
        return;
      }
      case 'opportunity.created': {
        const opportunityId = text(data.opportunityId);
        if (!opportunityId || this.opportunities.has(opportunityId)) return;
        this.opportunities.set(opportunityId, {
          id: event.id,
          opportunityId,
          contactId: text(data.contactId) ?? '',
          sku: text(data.sku),
          productName: text(data.productName),
          amount: typeof data.amount === 'number' ? data.amount : undefined,
          currency: text(data.currency),
        });
        return;
      }
      case 'task.created': {
        const taskId = text(data.taskId);
        if (!taskId || this.tasks.has(taskId)) return;
        this.tasks.set(taskId, { id: event.id, taskId, contactId: text(data.contactId) ?? '', subject: text(data.subject) ?? '', dueAt: text(data.dueAt) });
        return;
      }
      case 'service.report': {
        const reportId = text(data.reportId);
        if (reportId) this.reports.set(reportId, { id: event.id, reportId, data });
        return;
      }
      default:
        // An event type this receiver does not know yet is kept, not applied.
        return;
    }
  }

  /**
   * A contact.upserted sets the identity and merges the fields (a field left out is kept, as
   * a CRM keeps it); a contacts.updated entry merges the fields only. An event older than the
   * state already applied (a late retry) changes nothing: the receiver's last-writer-wins.
   */
  private applyContact(data: Record<string, unknown>, at: string, identity: boolean): void {
    const id = text(data.contactId);
    if (!id) return;
    const existing = this.contacts.get(id);
    if (existing && at < existing.appliedAt) {
      existing.events += 1;
      return;
    }
    const contact: ReceiverContact = existing ?? { id, previousBsuids: [], previousPhones: [], fields: {}, appliedAt: at, events: 0 };
    if (identity) {
      contact.bsuid = text(data.bsuid);
      contact.phone = text(data.phone);
      contact.previousBsuids = strings(data.previousBsuids);
      contact.previousPhones = strings(data.previousPhones);
      contact.username = text(data.username);
      contact.profileName = text(data.profileName);
      contact.lastInteractionAt = text(data.lastInteractionAt) ?? contact.lastInteractionAt;
      contact.leadSource = contact.leadSource ?? text(data.leadSource);
    }
    if (data.fields && typeof data.fields === 'object') Object.assign(contact.fields, data.fields);
    contact.appliedAt = at;
    contact.events += 1;
    this.contacts.set(id, contact);
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
