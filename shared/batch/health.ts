/**
 * Sync health, checked on a schedule:
 * - **reconciliation** (SY-7, daily): a random sample of 100 synced contacts is read back from
 *   the CRM and compared field by field with what we hold — the WhatsApp phone and user id, the
 *   amounts (message count, rating), the dates (last interaction), the level and segment. The
 *   accuracy (equal fields / compared fields) is a metric with an alarm below 99 %, and the sample
 *   is written as CSV (exports/reconciliation/<date>.csv) with empty columns for the person who
 *   checks and signs it. Names are not compared: the sales team may correct them in the CRM, and
 *   we write them only when we create the contact.
 * - **mapping check** (SY-9, weekly): every contact synced in the last 7 days is mapped again and
 *   the share of records with a field that failed or fell back to its default is a metric with an
 *   alarm above 2 %; the per-field counts go to exports/mapping-check/<week>.csv.
 *
 * Only settled contacts are sampled (no message in the last 15 minutes): one whose sync is still
 * under way would differ for no fault of the sync.
 */
import { mapContactFields, type MappableField } from '../crm/field-mapping.ts';
import { crmContactFields } from '../crm/mapping.ts';
import { fieldMapping } from '../crm/mappings.ts';
import type { CrmContactReadBack } from '../crm/port.ts';
import { isoWeek } from '../domain/automation/time.ts';
import { contactCrmId, type Contact } from '../domain/records.ts';
import { BUCKET_LAYOUT } from '../resources.ts';
import { CRM_LINK_PREFIX } from '../store/contacts.ts';
import { toCsv } from './csv.ts';
import { recordedInsights, scanContacts, type BatchTaskDeps } from './deps.ts';
import { localDate } from './period.ts';

export const SAMPLE_SIZE = 100;
export const ACCURACY_TARGET = 99;
export const MAPPING_ERROR_LIMIT = 2;
const SETTLE_MS = 15 * 60_000;

/** The fields compared, where the CRM's mapping writes them. */
const COMPARED: readonly MappableField[] = ['customerLevel', 'segment', 'messageCount', 'lastInteractionAt', 'satisfaction', 'lastCoupon'];

/** Reservoir sampling: `size` items, each equally likely, in one pass. */
export function sample<T>(items: AsyncIterable<T>, size: number, random: () => number): Promise<T[]> {
  return (async () => {
    const kept: T[] = [];
    let seen = 0;
    for await (const item of items) {
      seen++;
      if (kept.length < size) kept.push(item);
      else {
        const j = Math.floor(random() * seen);
        if (j < size) kept[j] = item;
      }
    }
    return kept;
  })();
}

/** A value as both sides can be compared: numbers by value, dates to the second, text trimmed. */
function comparable(value: unknown, datetime: boolean): string {
  if (value === null || value === undefined || value === '') return '';
  if (datetime) {
    const ms = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : Date.parse(String(value));
    return Number.isNaN(ms) ? String(value) : String(Math.floor(ms / 1000));
  }
  if (typeof value === 'number') return String(Number(value.toFixed(6)));
  const text = String(value).trim();
  return /^-?\d+(\.\d+)?$/.test(text) ? String(Number(Number(text).toFixed(6))) : text;
}

interface Comparison {
  readonly contactId: string;
  readonly crmId: string;
  readonly field: string;
  readonly ours: string;
  readonly crm: string;
  readonly match: boolean;
}

function compare(contact: Contact, crmId: string, back: CrmContactReadBack | undefined, kind: Parameters<typeof fieldMapping>[0]): Comparison[] {
  const mapping = fieldMapping(kind);
  const mapped = mapContactFields(crmContactFields(contact, recordedInsights(contact)), mapping);
  const rows: Comparison[] = [];
  const add = (field: string, ours: unknown, theirs: unknown, datetime = false) => {
    const a = comparable(ours, datetime);
    const b = back ? comparable(theirs, datetime) : '(missing in the CRM)';
    rows.push({ contactId: contact.contactId, crmId, field, ours: a, crm: b, match: a === b });
  };
  add('whatsapp phone', contact.phone, back?.phone);
  add('whatsapp user id', contact.bsuid, back?.bsuid);
  for (const rule of mapping.rules) {
    if (!COMPARED.includes(rule.path)) continue;
    // A learnt fact we do not hold is never written: whatever the CRM has is the sales team's.
    if (rule.onlyKnown && !(rule.field in mapped.values)) continue;
    add(rule.field, mapped.values[rule.field], back?.values[rule.field], mapped.datetimeFields.has(rule.field));
  }
  return rows;
}

export async function reconcile(deps: BatchTaskDeps): Promise<{ key?: string | undefined; sampled: number; compared: number; accuracy: number | undefined; skipped?: string }> {
  const crm = deps.crm();
  if (crm.kind === 'webhook') return { sampled: 0, compared: 0, accuracy: undefined, skipped: 'the generic webhook has no read-back: nothing to reconcile' };
  const now = deps.now();
  const synced = scanContacts(deps.store, {
    expression: 'attribute_exists(#crm) AND (attribute_not_exists(lastInboundAt) OR lastInboundAt < :settled)',
    names: { '#crm': `${CRM_LINK_PREFIX}${crm.kind}` },
    values: { ':settled': now - SETTLE_MS },
  });
  const picked = await sample(synced, SAMPLE_SIZE, deps.random ?? Math.random);
  const ids = picked.map((c) => contactCrmId(c, crm.kind)!);
  const found = new Map<string, CrmContactReadBack>();
  for (let i = 0; i < ids.length; i += crm.limits.batchSize) {
    const { contacts } = await crm.readContacts(ids.slice(i, i + crm.limits.batchSize));
    for (const c of contacts) found.set(c.crmId, c);
  }
  const rows = picked.flatMap((contact, i) => compare(contact, ids[i]!, found.get(ids[i]!), crm.kind));
  const equal = rows.filter((r) => r.match).length;
  const accuracy = rows.length ? Math.round((equal / rows.length) * 10_000) / 100 : undefined;
  const date = localDate(now, deps.timeZone);
  const csv = toCsv(
    ['date', 'contact_id', 'crm_id', 'field', 'ours', 'crm', 'match', 'checked_by', 'checked_at'],
    rows.map((r) => [date, r.contactId, r.crmId, r.field, r.ours, r.crm, r.match ? 'yes' : 'NO', '', '']),
  );
  const key = deps.exports ? `${BUCKET_LAYOUT.exports}reconciliation/${date}.csv` : undefined;
  if (key) await deps.exports!.put(key, csv, 'text/csv; charset=utf-8');
  if (accuracy !== undefined) deps.metrics.add('reconciliationAccuracy', accuracy, { crm: crm.kind });
  const log = accuracy !== undefined && accuracy < ACCURACY_TARGET ? deps.logger.warn : deps.logger.info;
  log.call(deps.logger, `reconciliation: ${accuracy ?? '–'} % of the sampled fields equal (target ${ACCURACY_TARGET} %)`, { sampled: picked.length, compared: rows.length, mismatches: rows.length - equal, key });
  return { key, sampled: picked.length, compared: rows.length, accuracy };
}

export async function mappingCheck(deps: BatchTaskDeps): Promise<{ key?: string | undefined; records: number; withIssues: number; rate: number | undefined }> {
  const crm = deps.crm();
  const now = deps.now();
  const mapping = fieldMapping(crm.kind);
  const perField = new Map<string, { defaulted: number; failed: number }>();
  let records = 0;
  let withIssues = 0;
  for await (const contact of scanContacts(deps.store, { expression: 'attribute_exists(#crm) AND updatedAt >= :since', names: { '#crm': `${CRM_LINK_PREFIX}${crm.kind}` }, values: { ':since': now - 7 * 86_400_000 } })) {
    records++;
    const mapped = mapContactFields(crmContactFields(contact, recordedInsights(contact)), mapping);
    if (mapped.defaulted.length || mapped.failed.length) withIssues++;
    for (const path of mapped.defaulted) {
      const entry = perField.get(path) ?? { defaulted: 0, failed: 0 };
      entry.defaulted++;
      perField.set(path, entry);
    }
    for (const { path } of mapped.failed) {
      const entry = perField.get(path) ?? { defaulted: 0, failed: 0 };
      entry.failed++;
      perField.set(path, entry);
    }
  }
  const rate = records ? Math.round((withIssues / records) * 10_000) / 100 : undefined;
  const week = isoWeek(now, deps.timeZone);
  const rows = mapping.rules.map((r) => {
    const e = perField.get(r.path) ?? { defaulted: 0, failed: 0 };
    return [week, r.path, r.field, records, e.defaulted, e.failed, records ? Math.round(((e.defaulted + e.failed) / records) * 10_000) / 100 : ''];
  });
  const key = deps.exports ? `${BUCKET_LAYOUT.exports}mapping-check/${week}.csv` : undefined;
  if (key) await deps.exports!.put(key, toCsv(['week', 'field', 'crm_field', 'records', 'defaulted', 'failed', 'share_percent'], rows), 'text/csv; charset=utf-8');
  if (rate !== undefined) deps.metrics.add('mappingErrorRate', rate, { crm: crm.kind });
  const log = rate !== undefined && rate > MAPPING_ERROR_LIMIT ? deps.logger.warn : deps.logger.info;
  log.call(deps.logger, `mapping check: ${rate ?? '–'} % of the week's records had a field fail or fall back to its default (limit ${MAPPING_ERROR_LIMIT} %)`, { records, withIssues, key });
  return { key, records, withIssues, rate };
}
