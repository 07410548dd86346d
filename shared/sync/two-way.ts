/**
 * What comes back from the CRM, applied (SY-3, ID-5): events in order of their time, each once;
 * a contact's edited fields resolved against ours field by field (shared/domain/two-way.ts), every
 * conflict queued for a person, the winner written to the side that lost; an opt-out noted by
 * sales becomes our consent state; a reply written in the CRM sent on WhatsApp through the one
 * policy gate; a closed Case or deal put on the contact for the automations.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CrmAdapter } from '../crm/port.ts';
import { hasTwoWay, type CrmContactChange, type CrmEvent, type CrmRecordClosed, type CrmReply } from '../crm/two-way.ts';
import { applyCrmChange, type FieldConflict, type FieldState } from '../domain/two-way.ts';
import type { Roster } from '../domain/automation/config.ts';
import { NO_METRICS, type MetricsSink } from '../metric-names.ts';
import { describeError } from '../observability.ts';
import { parseSendBody, type SendRequestInput } from '../outbound/request.ts';
import type { SubmitResult } from '../outbound/submit.ts';
import { contactSyncJob, replyStatusSyncJob, type SyncJobSink } from '../queue/sync-jobs.ts';
import type { Store } from '../store/store.ts';

export interface CrmInboundDeps {
  readonly store: Store;
  readonly crm: CrmAdapter;
  readonly syncJobs: SyncJobSink;
  /** The outbound path of `POST /api/messages` (the gate, the outbox, the send queue). */
  readonly submit: (idempotencyKey: string, input: SendRequestInput) => Promise<SubmitResult>;
  readonly roster?: Roster | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

export interface InboundOutcome {
  readonly applied: number;
  readonly repeated: number;
  /** Events about records that are not a customer of ours (a sales-only contact). */
  readonly unknown: number;
  readonly conflicts: number;
  readonly replies: number;
}

const FIELD_ATTRIBUTE = { firstName: 'firstName', customerLevel: 'customerLevel' } as const;

export function createCrmInbound(deps: CrmInboundDeps) {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? NO_METRICS;
  const { store, crm, logger } = deps;
  const kind = crm.kind;

  async function contactOf(crmId: string, identity?: { bsuid?: string | undefined; phone?: string | undefined }): Promise<string | undefined> {
    const linked = await store.twoWay.contactOfCrm(kind, crmId);
    const id = linked ?? (await byIdentity(identity));
    if (!id) return undefined;
    return (await store.contacts.current(id))?.contactId;
  }

  async function byIdentity(identity?: { bsuid?: string | undefined; phone?: string | undefined }): Promise<string | undefined> {
    const ids = [...(identity?.bsuid ? [{ kind: 'bsuid' as const, value: identity.bsuid }] : []), ...(identity?.phone ? [{ kind: 'phone' as const, value: identity.phone }] : [])];
    if (!ids.length) return undefined;
    const owners = await store.identities.owners(ids);
    return [...owners.values()][0];
  }

  /** A contact's fields edited in the CRM. Returns the conflicts recorded. */
  async function applyContact(change: CrmContactChange, eventId: string): Promise<number | 'unknown'> {
    const contactId = await contactOf(change.crmId, change);
    if (!contactId) return 'unknown';
    const outcome = await store.twoWay.updateFields(
      contactId,
      (_contact, states) => {
        const next: Record<string, FieldState> = {};
        const set: Record<string, unknown> = {};
        const conflicts: FieldConflict[] = [];
        let push = false;
        for (const c of change.changes) {
          const r = applyCrmChange(c.field, next[c.field] ?? states[c.field], { value: c.value, at: c.at, ours: change.ours });
          next[c.field] = r.state;
          if (r.changed && r.state.value !== null) set[FIELD_ATTRIBUTE[c.field]] = r.state.value;
          if (r.conflict) conflicts.push(r.conflict);
          push ||= r.push;
        }
        return Object.keys(next).length ? { states: next, set, result: { conflicts, push } } : { result: { conflicts, push } };
      },
      (id) => store.contacts.get(id),
    );
    if (!outcome) return 'unknown';
    for (const conflict of outcome.conflicts) {
      await store.conflicts.recordField(contactId, conflict, kind);
      metrics.add('crmConflicts', 1, { crm: kind });
      logger.info('two-way conflict queued for review', { contactId, field: conflict.field, winner: conflict.winner });
    }
    if (change.optedOutAt !== undefined) {
      await store.contacts.recordConsent(contactId, 'marketing', { state: 'opted_out', at: change.optedOutAt, source: 'business', detail: `${kind} CRM` });
    }
    // The winner goes to the side that lost: ours to the CRM by the contact's next upsert.
    if (outcome.push || change.optedOutAt !== undefined) await deps.syncJobs.enqueue([contactSyncJob(contactId, `crm-change:${eventId}`.slice(0, 500))]);
    return outcome.conflicts.length;
  }

  function agentOf(crmUserId: string | undefined): string {
    const agent = crmUserId ? deps.roster?.agents.find((a) => a.crmUsers?.[kind] === crmUserId) : undefined;
    return agent?.id ?? `crm-${kind}-${crmUserId ?? 'unknown'}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);
  }

  /** A reply written in the CRM, sent through the one gate; a refusal is written back to its record. */
  async function applyReply(reply: CrmReply): Promise<'sent' | 'unknown'> {
    const contactId = await contactOf(reply.contactCrmId);
    if (!contactId) return 'unknown';
    const input = parseSendBody({ to: { contactId }, category: 'service', text: reply.text.slice(0, 4096), origin: 'agent', agentId: agentOf(reply.crmUserId) });
    const result = await deps.submit(`crm-reply:${kind}:${reply.replyId}`, { ...input, crmReply: { kind, replyId: reply.replyId, contactCrmId: reply.contactCrmId } });
    if (result.status !== 202) {
      await deps.syncJobs.enqueue([replyStatusSyncJob({ contactId, outboundId: `refused-${reply.replyId}`.slice(0, 200), crm: kind, replyId: reply.replyId, contactCrmId: reply.contactCrmId, status: 'failed', at: now(), error: result.error.slice(0, 500) })]);
      logger.warn('reply written in the CRM refused', { contactId, status: result.status });
      return 'sent';
    }
    const { state, reason } = result.body;
    if (state === 'denied' || state === 'deferred' || state === 'queued') {
      await deps.syncJobs.enqueue([replyStatusSyncJob({ contactId, outboundId: result.body.id, crm: kind, replyId: reply.replyId, contactCrmId: reply.contactCrmId, status: state === 'denied' ? 'failed' : 'queued', at: now(), ...(reason && { error: reason.slice(0, 500) }) })]);
    }
    logger.info('reply written in the CRM accepted for WhatsApp', { contactId, id: result.body.id, state });
    return 'sent';
  }

  async function applyClosed(closed: CrmRecordClosed): Promise<'ok' | 'unknown'> {
    const contactId = await contactOf(closed.contactCrmId);
    if (!contactId) return 'unknown';
    await store.table.update(
      { pk: `CONTACT#${contactId}`, sk: 'PROFILE' },
      {
        update: 'SET crmClosed = :c',
        condition: 'attribute_exists(pk) AND (attribute_not_exists(crmClosed.#at) OR crmClosed.#at <= :at)',
        names: { '#at': 'at' },
        values: { ':c': { crm: kind, recordType: closed.recordType, recordId: closed.recordId, status: closed.status, at: closed.at }, ':at': closed.at },
      },
    );
    return 'ok';
  }

  /** Applies a delivery's events: in order of their time, each once, refs read from the CRM first. */
  async function apply(events: readonly CrmEvent[], options: { deadline?: number } = {}): Promise<InboundOutcome> {
    const out = { applied: 0, repeated: 0, unknown: 0, conflicts: 0, replies: 0 };
    const ordered = [...events].sort((a, b) => a.occurredAt - b.occurredAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    for (const event of ordered) {
      if ((await store.twoWay.eventState(kind, event.eventId)) === 'applied') {
        out.repeated++;
        continue;
      }
      let changes: readonly CrmEvent[] = [event];
      if (event.change.kind === 'ref') {
        if (!hasTwoWay(crm)) throw new Error(`the ${kind} adapter cannot read the records a notification names`);
        changes = (await crm.twoWay.resolve([event.change], { deadline: options.deadline })).changes;
      }
      for (const { change } of [...changes].sort((a, b) => a.occurredAt - b.occurredAt)) {
        const r = change.kind === 'contact' ? await applyContact(change, event.eventId) : change.kind === 'reply' ? await applyReply(change) : change.kind === 'closed' ? await applyClosed(change) : 'ok';
        if (r === 'unknown') out.unknown++;
        else if (typeof r === 'number') out.conflicts += r;
        if (change.kind === 'reply' && r === 'sent') out.replies++;
      }
      await store.twoWay.markApplied(kind, event.eventId, now());
      out.applied++;
      metrics.add('crmChangesApplied', 1, { crm: kind });
    }
    if (out.unknown) logger.info('CRM changes of records that are not our customers skipped', { count: out.unknown });
    return out;
  }

  return {
    apply,
    /** Applies and reports failures as values, for handlers that must not throw. */
    async tryApply(events: readonly CrmEvent[]): Promise<InboundOutcome | Error> {
      try {
        return await apply(events);
      } catch (error) {
        logger.warn('CRM changes not applied', { reason: describeError(error) });
        return error as Error;
      }
    },
  };
}

export type CrmInbound = ReturnType<typeof createCrmInbound>;
