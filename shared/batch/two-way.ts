/**
 * Two-way sync's scheduled work (SY-3, ID-3):
 * - `crm-catch-up` (every 15 minutes): the CRM's changes since the last run (Salesforce
 *   `SystemModstamp`, Zoho `Modified_Time`, HubSpot `lastmodifieddate`) put on the crm-events
 *   queue like a delivery, for changes a webhook, CDC event or notification missed (and for orgs
 *   without CDC); each event is applied once, so what was delivered already changes nothing.
 * - `crm-watch` (daily): Zoho's notification channel opened or renewed before its expiry (a week at most).
 * - `duplicates` (daily): duplicate candidates over stored contacts and the CRM's purchases of
 *   the last 90 days, queued for review, merged at once above the configured confidence.
 */
import type { CrmEvent } from '../crm/two-way.ts';
import { hasTwoWay } from '../crm/two-way.ts';
import { searchDuplicates, type DuplicateSubject, type Purchase } from '../domain/intelligence/duplicates.ts';
import { DAY_MS } from '../domain/intelligence/segments.ts';
import { contactCrmId } from '../domain/records.ts';
import type { CrmKind } from '../resources.ts';
import { keys } from '../store/keys.ts';
import { duplicateId } from '../store/two-way.ts';
import { mergeDuplicate } from '../sync/merge-contacts.ts';
import { scanContacts, type BatchTaskDeps } from './deps.ts';

export interface TwoWayTaskDeps extends BatchTaskDeps {
  /** Puts catch-up events on the crm-events queue (as the receivers do). */
  readonly crmEvents?: ((crm: CrmKind, events: readonly CrmEvent[]) => Promise<void>) | undefined;
  /** The deployment's public URL (Zoho calls back to `<url>/crm-events/zoho`). */
  readonly publicUrl?: (() => string | undefined) | undefined;
  /** Zoho's channel token (ZOHO_CHANNEL_TOKEN). */
  readonly channelToken?: () => Promise<string | undefined>;
  /** Merge candidates at once from this name similarity on (0.8–1); absent: a person decides. */
  readonly autoMergeAt?: number | undefined;
}

/** The catch-up's look-back on its first run, and the overlap kept between runs (clock skew). */
const FIRST_LOOK_BACK_MS = DAY_MS;
const OVERLAP_MS = 60_000;
const CATCH_UP_PAGE = 200;
const CATCH_UP_PAGES = 20;
const WATCH_DAYS = 7;

export async function crmCatchUp(deps: TwoWayTaskDeps): Promise<Record<string, unknown>> {
  const crm = deps.crm();
  if (!hasTwoWay(crm)) return { skipped: `the ${crm.kind} CRM has no way back` };
  if (!deps.crmEvents) return { skipped: 'the crm-events queue is not configured' };
  const key = keys.jobRun(`crm-catch-up:${crm.kind}`);
  const stored = await deps.store.table.get<{ cursor?: number }>(key, ['cursor']);
  let since = stored?.cursor ?? deps.now() - FIRST_LOOK_BACK_MS;
  let events = 0;
  let calls = 0;
  for (let page = 0; page < CATCH_UP_PAGES; page++) {
    const found = await crm.twoWay.changesSince(since - OVERLAP_MS, CATCH_UP_PAGE);
    calls += found.calls;
    if (found.events.length) await deps.crmEvents(crm.kind, found.events);
    events += found.events.length;
    const next = Math.max(since, found.cursor);
    await deps.store.table.put({ ...key, cursor: next, at: deps.now() });
    if (found.events.length < CATCH_UP_PAGE || next === since) break;
    since = next;
  }
  deps.logger.info('CRM catch-up', { crm: crm.kind, events, calls });
  return { crm: crm.kind, events, calls, cursor: new Date(since).toISOString() };
}

export async function crmWatch(deps: TwoWayTaskDeps): Promise<Record<string, unknown>> {
  const crm = deps.crm();
  if (!hasTwoWay(crm) || !crm.twoWay.watch) return { skipped: `the ${crm.kind} CRM needs no notification channel` };
  const publicUrl = deps.publicUrl?.();
  if (!publicUrl) return { skipped: 'SCRM_PUBLIC_URL is not set: the CRM has nowhere to call back' };
  const token = await deps.channelToken?.();
  if (!token) return { skipped: 'ZOHO_CHANNEL_TOKEN is not set in the secret' };
  const expiresAt = deps.now() + WATCH_DAYS * DAY_MS - 60 * 60_000;
  const channelId = String(1_000_000_000 + (hashOf(publicUrl) % 1_000_000_000));
  const done = await crm.twoWay.watch({ channelId, token, notifyUrl: `${publicUrl.replace(/\/+$/, '')}/crm-events/${crm.kind}`, expiresAt });
  deps.logger.info('CRM notification channel renewed', { crm: crm.kind, expiresAt: new Date(done.expiresAt).toISOString() });
  return { crm: crm.kind, channelId, expiresAt: new Date(done.expiresAt).toISOString(), calls: done.calls };
}

export async function findDuplicates(deps: TwoWayTaskDeps): Promise<Record<string, unknown>> {
  const started = deps.now();
  const since = started - 90 * DAY_MS;
  const crm = deps.crm();
  const subjects = new Map<string, { id: string; name: string; purchases: Purchase[] }>();
  const byCrmId = new Map<string, string>();
  for await (const contact of scanContacts(deps.store)) {
    const name = [contact.firstName ?? contact.profileName ?? ''].join(' ').trim() || contact.profileName || '';
    const purchases: Purchase[] = (contact.recentOrders ?? []).filter((o) => o.placedAt >= since).flatMap((o) => o.skus.map((sku) => ({ sku, at: o.placedAt })));
    subjects.set(contact.contactId, { id: contact.contactId, name: contact.profileName ?? name, purchases });
    const crmId = contactCrmId(contact, crm.kind);
    if (crmId) byCrmId.set(crmId, contact.contactId);
  }
  let crmPurchases = 0;
  let calls = 0;
  if (hasTwoWay(crm)) {
    const found = await crm.twoWay.purchasesSince(since);
    calls = found.calls;
    for (const p of found.purchases) {
      const id = byCrmId.get(p.contactCrmId);
      const subject = id ? subjects.get(id) : undefined;
      if (!subject) continue;
      subject.purchases.push({ sku: p.sku, at: p.at, ...(p.amount !== undefined && { amount: p.amount }) });
      crmPurchases++;
    }
  }
  const searched = deps.now();
  const candidates = searchDuplicates([...subjects.values()] as DuplicateSubject[]);
  let created = 0;
  let merged = 0;
  for (const c of candidates) {
    const row = { id: duplicateId(c.aId, c.bId), aId: c.aId, bId: c.bId, similarity: Math.round(c.similarity * 1000) / 1000, sku: c.sku, foundAt: started, state: 'open' as const };
    if (await deps.store.twoWay.putDuplicate(row)) created++;
    if (deps.autoMergeAt !== undefined && c.similarity >= deps.autoMergeAt && (await deps.store.twoWay.duplicate(row.id))?.state === 'open') {
      await mergeDuplicate({ store: deps.store, crm: deps.crm, syncJobs: deps.syncJobs, logger: deps.logger, now: deps.now }, row, 'auto');
      merged++;
    }
  }
  deps.metrics.add('duplicatesFound', created);
  const result = { contacts: subjects.size, crmPurchases, candidates: candidates.length, new: created, merged, searchMs: deps.now() - searched, calls };
  deps.logger.info('duplicate customers searched', result);
  return result;
}

function hashOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) >>> 0;
  return h;
}
