/**
 * SY-6, the daily and periodic exports:
 * - **unanswered** (daily 2:00): conversations whose customer still waits for an answer, as CSV
 *   (exports/unanswered/<date>.csv), each flagged for follow-up in the CRM by a task — through the
 *   task sync job, so it is created once per contact and day however often the export runs;
 * - **service quality** (weekly): the median first-response time of the week before, per agent and
 *   in all, as CSV and into the CRM's service-quality record where it has one;
 * - **keywords** (monthly): how often each tracked hot word came up in the month before, in how
 *   many messages and from how many customers — product-improvement input.
 */
import { median } from '../reports/build.ts';
import { taskSyncJob } from '../queue/sync-jobs.ts';
import { BUCKET_LAYOUT } from '../resources.ts';
import { contactCrmId } from '../domain/records.ts';
import { toCsv } from './csv.ts';
import { scanContacts, type BatchTaskDeps } from './deps.ts';
import { localDate, previousMonth, previousWeek, type Period } from './period.ts';

/** A customer waiting this long is unanswered (a message a minute before the export is not yet). */
export const UNANSWERED_AFTER_MS = 60 * 60_000;
const HOUR_MS = 3_600_000;

export interface ExportResult {
  readonly key?: string | undefined;
  readonly rows: number;
  readonly skipped?: string;
}

async function write(deps: BatchTaskDeps, key: string, csv: string): Promise<string | undefined> {
  if (!deps.exports) {
    deps.logger.warn('no bucket configured (SCRM_BUCKET_NAME): the export is not written', { key });
    return undefined;
  }
  await deps.exports.put(key, csv, 'text/csv; charset=utf-8');
  return key;
}

export async function exportUnanswered(deps: BatchTaskDeps): Promise<ExportResult & { flagged: number }> {
  const now = deps.now();
  const date = localDate(now, deps.timeZone);
  const crmKind = deps.crm().kind;
  const rows: (string | number | undefined)[][] = [];
  const jobs = [];
  for await (const contact of scanContacts(deps.store, { expression: 'attribute_exists(waitingSince) AND waitingSince < :before', values: { ':before': now - UNANSWERED_AFTER_MS } })) {
    const waitingSince = (contact as { waitingSince?: number }).waitingSince!;
    const hours = Math.floor((now - waitingSince) / HOUR_MS);
    const taskId = `unanswered:${contact.contactId}:${date}`;
    rows.push([contact.contactId, contactCrmId(contact, crmKind), contact.profileName, contact.phone, new Date(waitingSince).toISOString(), hours, contact.lastInboundAt && new Date(contact.lastInboundAt).toISOString(), contact.segment, contact.agentId, taskId]);
    jobs.push(
      taskSyncJob({
        taskId,
        contactId: contact.contactId,
        subject: 'Unanswered WhatsApp conversation',
        body: `The customer has waited ${hours} h for an answer on WhatsApp (since ${new Date(waitingSince).toISOString()}).`,
        dueAt: now + 8 * HOUR_MS,
      }),
    );
  }
  rows.sort((a, b) => Number(b[5]) - Number(a[5]));
  for (let i = 0; i < jobs.length; i += 10) await deps.syncJobs.enqueue(jobs.slice(i, i + 10), { redrive: `unanswered-${date}` });
  const key = await write(deps, `${BUCKET_LAYOUT.exports}unanswered/${date}.csv`, toCsv(['contact_id', 'crm_id', 'name', 'phone', 'waiting_since', 'hours_waiting', 'last_message_at', 'segment', 'agent', 'crm_task_id'], rows));
  deps.metrics.add('unansweredConversations', rows.length);
  deps.logger.info('unanswered conversations exported and flagged for follow-up', { key, rows: rows.length });
  return { key, rows: rows.length, flagged: jobs.length };
}

export async function serviceReport(deps: BatchTaskDeps, period: Period = previousWeek(deps.now(), deps.timeZone)): Promise<ExportResult & { medianFirstResponseMs: number | undefined; recorded: boolean }> {
  const byAgent = new Map<string, number[]>();
  for await (const page of deps.store.table.scanPages({
    FilterExpression: 'sk = :outbound AND attribute_exists(responseMs) AND createdAt >= :start AND createdAt < :end',
    ExpressionAttributeValues: { ':outbound': 'OUTBOUND', ':start': period.start, ':end': period.end },
    ProjectionExpression: 'agentId, responseMs',
  })) {
    for (const item of page.items) {
      const agent = typeof item['agentId'] === 'string' ? item['agentId'] : 'unknown';
      const list = byAgent.get(agent) ?? [];
      list.push(Number(item['responseMs']));
      byAgent.set(agent, list);
    }
  }
  let conversations = 0;
  let unanswered = 0;
  for await (const contact of scanContacts(deps.store, { expression: 'conversation.startedAt >= :start AND conversation.startedAt < :end', values: { ':start': period.start, ':end': period.end } })) {
    conversations++;
    if ((contact as { waitingSince?: number }).waitingSince !== undefined) unanswered++;
  }
  const all = [...byAgent.values()].flat();
  const medianFirstResponseMs = median(all) ?? undefined;
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms / 1000));
  const rows = [...byAgent].sort(([a], [b]) => a.localeCompare(b)).map(([agent, list]) => [period.label, agent, list.length, seconds(median(list) ?? undefined)]);
  rows.push([period.label, 'all', all.length, seconds(medianFirstResponseMs)]);
  const key = await write(deps, `${BUCKET_LAYOUT.exports}service-quality/${period.label}.csv`, toCsv(['period', 'agent', 'answered', 'median_first_response_s'], rows));
  const crm = deps.crm();
  const { recorded } = await crm.recordServiceReport({ reportId: `service-week:${period.label}`, periodStart: period.start, periodEnd: period.end, medianFirstResponseMs, conversations, unanswered });
  if (medianFirstResponseMs !== undefined) deps.metrics.add('medianFirstResponse', medianFirstResponseMs);
  deps.logger.info('weekly service quality', { period: period.label, answered: all.length, medianFirstResponseMs, conversations, unanswered, recordedInCrm: recorded });
  return { key, rows: rows.length, medianFirstResponseMs, recorded };
}

export async function keywordReport(deps: BatchTaskDeps, period: Period = previousMonth(deps.now(), deps.timeZone)): Promise<ExportResult> {
  const counts = new Map<string, { mentions: number; messages: number; customers: Set<string> }>();
  for await (const page of deps.store.table.scanPages({
    FilterExpression: 'sk = :message AND #direction = :in AND sentAt >= :start AND sentAt < :end AND attribute_exists(analysis.hotWords)',
    ExpressionAttributeNames: { '#direction': 'direction' },
    ExpressionAttributeValues: { ':message': 'MESSAGE', ':in': 'inbound', ':start': period.start, ':end': period.end },
    ProjectionExpression: 'contactId, analysis.hotWords',
  })) {
    for (const item of page.items) {
      const hotWords = ((item['analysis'] as { hotWords?: Record<string, number> } | undefined)?.hotWords ?? {}) as Record<string, number>;
      for (const [word, n] of Object.entries(hotWords)) {
        const entry = counts.get(word) ?? { mentions: 0, messages: 0, customers: new Set<string>() };
        entry.mentions += n;
        entry.messages += 1;
        entry.customers.add(String(item['contactId']));
        counts.set(word, entry);
      }
    }
  }
  const rows = [...counts]
    .sort(([a, x], [b, y]) => y.mentions - x.mentions || a.localeCompare(b))
    .map(([word, c]) => [period.label, word, deps.hotWordFamily?.get(word) ?? word, c.mentions, c.messages, c.customers.size]);
  const key = await write(deps, `${BUCKET_LAYOUT.exports}keywords/${period.label}.csv`, toCsv(['period', 'keyword', 'family', 'mentions', 'messages', 'customers'], rows));
  deps.logger.info('monthly keyword frequencies', { period: period.label, keywords: rows.length, key });
  return { key, rows: rows.length };
}
