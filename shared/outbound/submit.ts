/**
 * Accepting a message to send: the one entry every outbound message takes (an agent's reply, an
 * automation, a CRM-triggered message, the API). In order:
 *
 * 1. our id from the caller's idempotency key; a known id answers what it answered before (the
 *    same key with another body is a conflict), and nothing new is sent;
 * 2. the customer, by contact id, phone or BSUID (404 when we do not know them);
 * 3. a template is checked against Meta's list (approved, with the right parameters) before
 *    any call to Meta;
 * 4. the policy gate, atomically (gate.ts): allow → `queued`, or `denied` / `deferred` with the
 *    reason;
 * 5. the row, then the send job. A job lost between the two is found by the outbox sweep.
 */
import type { AccountConfig, RuntimeConfig } from '../config.ts';
import type { Contact } from '../domain/records.ts';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../domain/policy.ts';
import { normalisePhone } from '../phone.ts';
import type { SendJobSink } from '../queue/send-jobs.ts';
import { sendJob } from '../queue/send-jobs.ts';
import type { ContactStore } from '../store/contacts.ts';
import type { IdentityStore } from '../store/identities.ts';
import type { IdentityKey } from '../store/keys.ts';
import { outboundIdFor, type OutboxStore, type OutboundRow } from '../store/outbox.ts';
import type { SendLimitsStore } from '../store/send-limits.ts';
import type { StoredTemplate, TemplateStore } from '../store/templates.ts';
import type { Address, WhatsAppAccountApi } from '../whatsapp/outbound/channel.ts';
import { linkedFact } from '../reports/facts.ts';
import { skuOf, trackContent } from '../links/tracked.ts';
import type { LinkStore } from '../store/links.ts';
import type { StatsStore } from '../store/stats.ts';
import { passGate } from './gate.ts';
import { hashOf, summaryOf, type SendRequestInput } from './request.ts';

export interface SubmitDeps {
  readonly contacts: ContactStore;
  readonly identities: IdentityStore;
  readonly outbox: OutboxStore;
  readonly limits: SendLimitsStore;
  readonly templates: TemplateStore;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly jobs: SendJobSink;
  readonly config: Pick<RuntimeConfig, 'accounts' | 'defaultRegion' | 'sending'>;
  readonly now?: () => number;
  readonly onDenied?: (rule: string) => void;
  /** Tracked links (AU-8): where the short links point and the key they are made with; absent: links go as written. */
  readonly links?: LinkTracking | undefined;
}

export interface LinkTracking {
  readonly store: LinkStore;
  readonly stats: StatsStore;
  /** `SCRM_LINK_BASE_URL` (locally the stack's own URL); undefined: not tracked. */
  readonly baseUrl: () => string | undefined;
  readonly key: () => Promise<string>;
}

/** The stores the send path reads and writes, from the one table's stores. */
export function submitStores(store: Pick<SubmitDeps, 'contacts' | 'identities' | 'outbox' | 'limits' | 'templates'>): Pick<SubmitDeps, 'contacts' | 'identities' | 'outbox' | 'limits' | 'templates'> {
  return { contacts: store.contacts, identities: store.identities, outbox: store.outbox, limits: store.limits, templates: store.templates };
}

/** The API's answer to an accepted request. */
export interface SubmitAnswer {
  readonly id: string;
  readonly state: 'queued' | 'denied' | 'deferred' | OutboundRow['state'];
  readonly reason?: string | undefined;
  readonly notBefore?: number | undefined;
}

export type SubmitResult =
  | { readonly status: 202; readonly body: SubmitAnswer }
  | { readonly status: 400 | 404 | 409 | 503; readonly error: string };

/** Deferrals this short are queued at once (the send function waits); longer ones wait for the sweep. */
export const SHORT_DEFER_MS = 15_000;
/** Least time between two template listings of one WABA caused by an unknown template. */
const TEMPLATE_RELIST_MS = 60_000;

export function createSubmit(deps: SubmitDeps) {
  const now = deps.now ?? Date.now;
  const relistedAt = new Map<string, number>();

  async function templateOf(wabaId: string, name: string, language: string): Promise<StoredTemplate | undefined> {
    const known = await deps.templates.get(wabaId, name, language);
    if (known || !deps.accountApi) return known;
    // Not known yet: Meta's list again (a template approved since the daily listing), at most once a minute.
    const last = relistedAt.get(wabaId) ?? 0;
    if (now() - last < TEMPLATE_RELIST_MS) return undefined;
    relistedAt.set(wabaId, now());
    await deps.templates.replace(wabaId, await deps.accountApi.listTemplates(wabaId), now());
    return deps.templates.get(wabaId, name, language);
  }

  async function submit(idempotencyKey: string, input: SendRequestInput): Promise<SubmitResult> {
    const id = outboundIdFor(idempotencyKey);
    const existing = await deps.outbox.get(id);
    if (existing) return repeat(existing, input);

    const found = await findCustomer(deps, input.to);
    if ('invalid' in found) return { status: 400, error: found.invalid };
    const contact = found.contact;
    if (!contact) return { status: 404, error: `no customer ${JSON.stringify(input.to)} is known` };
    const address = addressOf(contact, input.to);
    if (!address) return { status: 404, error: `customer ${contact.contactId} has neither a phone nor a BSUID to send to` };
    const phoneNumberId = input.from ?? senderOf(contact, deps.config.accounts);
    if (!phoneNumberId) return { status: 503, error: 'no business number to send from: set WHATSAPP_ACCOUNTS or give "from"' };
    const account: AccountConfig | undefined = deps.config.accounts[phoneNumberId];
    if (input.from && Object.keys(deps.config.accounts).length && !account) return { status: 400, error: `from: ${input.from} is not a number of WHATSAPP_ACCOUNTS` };

    let category: MessageCategory = input.category;
    let refusal: string | undefined;
    if (input.content.type === 'template') {
      if (!account?.wabaId) return { status: 400, error: `template: the WABA id of number ${phoneNumberId} is not configured (WHATSAPP_ACCOUNTS …wabaId)` };
      const template = await templateOf(account.wabaId, input.content.name, input.content.language);
      if (!template) return { status: 400, error: `template: "${input.content.name}" (${input.content.language}) is not a template of WABA ${account.wabaId}` };
      const problem = parameterProblem(template, input.content.parameters);
      if (problem) return { status: 400, error: `template.parameters: ${problem}` };
      if (template.status !== 'APPROVED') refusal = `template "${template.name}" (${template.language}) is ${template.status}, not APPROVED`;
      // Meta bills and limits by the template's own category, whatever the caller said.
      const metaCategory = template.category.toLowerCase() as MessageCategory;
      if (MESSAGE_CATEGORIES.includes(metaCategory)) category = metaCategory;
    }

    const at = now();
    const base = {
      id,
      requestHash: input.requestHash,
      contactId: contact.contactId,
      phoneNumberId,
      to: address,
      category,
      origin: input.origin,
      agentId: input.agentId,
      rule: input.rule,
      content: input.content,
      summary: summaryOf(input.content),
      eventKey: input.eventKey,
      replyTo: input.replyTo,
      ...(input.crmReply && { crmReply: input.crmReply }),
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    };
    let row: OutboundRow;
    if (refusal) row = { ...base, state: 'denied', reason: refusal, policyRule: 'template' };
    else {
      const numberState = await deps.limits.numberState(phoneNumberId);
      const decision = await passGate(
        { contacts: deps.contacts, limits: deps.limits, settings: { dailyLimit: deps.config.sending.dailyLimit } },
        contact.contactId,
        // Promotional free-form content is marketing to the policy (opt-out, once a week), service to Meta.
        { category: input.promotional && input.content.type !== 'template' ? 'marketing' : category, kind: input.content.type === 'template' ? 'template' : 'free_form', origin: input.origin, contentHash: hashOf(input.content), eventKey: input.eventKey },
        at,
        numberState.pausedUntil,
      );
      if (decision.kind === 'allow') row = { ...base, state: 'queued' };
      else if (decision.kind === 'deny') row = { ...base, state: 'denied', policyRule: decision.rule, reason: `${decision.rule}: ${decision.reason}` };
      else row = { ...base, state: 'deferred', policyRule: decision.rule, reason: `${decision.rule}: ${decision.reason}`, notBefore: decision.until };
    }
    if (row.state === 'denied') deps.onDenied?.(row.policyRule ?? 'policy');
    else if (deps.links) row = await withTrackedLinks(deps.links, row, at);

    const created = await deps.outbox.create(row);
    if (!created.created) return repeat(created.existing, input);
    if (row.state === 'queued' || (row.state === 'deferred' && row.notBefore! - at <= SHORT_DEFER_MS)) {
      // A job lost here (a crash, a queue refusing) is queued again by the outbox sweep.
      await deps.jobs.enqueue([sendJob(row.id, row.contactId)]).catch(() => undefined);
    }
    return { status: 202, body: answerOf(row) };
  }

  return { submit };
}

/**
 * The row with every https URL of its content made a tracked link (written before the row: a
 * retry makes the same tokens), and the message counted as one with links for the reports' CTR.
 */
async function withTrackedLinks(links: LinkTracking, row: OutboundRow, at: number): Promise<OutboundRow> {
  const baseUrl = links.baseUrl();
  if (!baseUrl) return row;
  const tracked = trackContent(row.content, { key: await links.key(), baseUrl, outboundId: row.id });
  if (!tracked.links.length) return row;
  await links.store.create(tracked.links.map((l) => ({ token: l.token, url: l.url, index: l.index, contactId: row.contactId, outboundId: row.id, createdAt: at, ...(skuOf(l.url) && { sku: skuOf(l.url) }), ...(row.rule && { campaign: row.rule }) })));
  await links.stats.count([linkedFact(row.id, at)]);
  return { ...row, content: tracked.content };
}

function repeat(existing: OutboundRow, input: SendRequestInput): SubmitResult {
  if (existing.requestHash !== input.requestHash) {
    return { status: 409, error: 'Idempotency-Key was used before with another body' };
  }
  return { status: 202, body: answerOf(existing) };
}

export function answerOf(row: OutboundRow): SubmitAnswer {
  return { id: row.id, state: row.state, ...(row.reason && { reason: row.reason }), ...(row.state === 'deferred' && row.notBefore !== undefined && { notBefore: row.notBefore }) };
}

/**
 * The customer a request names — by our contact id, a phone (any format the default region
 * reads) or a BSUID — as they are now (a merged contact leads to the one it became). A phone that
 * is not one is `invalid`, naming it.
 */
export async function findCustomer(
  deps: { readonly contacts: Pick<ContactStore, 'current'>; readonly identities: Pick<IdentityStore, 'owners'>; readonly config: Pick<RuntimeConfig, 'defaultRegion'> },
  to: SendRequestInput['to'],
): Promise<{ contact: Contact | undefined } | { invalid: string }> {
  let contactId: string | undefined;
  if ('contactId' in to) contactId = to.contactId;
  else {
    let id: IdentityKey;
    if ('phone' in to) {
      const phone = normalisePhone(to.phone, deps.config.defaultRegion);
      if (!phone.e164) return { invalid: `phone: "${to.phone}" is not a phone number (E.164, e.g. +85291234567)` };
      id = { kind: 'phone', value: phone.e164 };
    } else id = { kind: 'bsuid', value: to.bsuid };
    contactId = (await deps.identities.owners([id])).values().next().value;
  }
  return { contact: contactId ? await deps.contacts.current(contactId) : undefined };
}

/**
 * A customer with a phone is addressed by it (`to`); one known only by a BSUID by that
 * (`recipient`). Asked for by BSUID explicitly, the BSUID is used.
 */
function addressOf(contact: Contact, to: SendRequestInput['to']): Address | undefined {
  if ('bsuid' in to && contact.bsuid === to.bsuid) return { bsuid: to.bsuid };
  if (contact.phone) return { phone: contact.phone };
  if (contact.bsuid) return { bsuid: contact.bsuid };
  return undefined;
}

/** The number the customer last wrote to that is configured, else the first configured one. */
function senderOf(contact: Contact, accounts: RuntimeConfig['accounts']): string | undefined {
  const configured = Object.keys(accounts);
  const theirs = [...(contact.accounts ?? [])];
  return theirs.find((id) => configured.includes(id)) ?? configured[0] ?? theirs[0];
}

/** Why the parameters do not fit the template's body, or undefined when they do. */
export function parameterProblem(template: Pick<StoredTemplate, 'parameterFormat' | 'bodyParameters'>, parameters: readonly string[] | Readonly<Record<string, string>> | undefined): string | undefined {
  const expected = template.bodyParameters;
  if (template.parameterFormat === 'named') {
    if (Array.isArray(parameters)) return `the template takes named parameters (${expected.join(', ')}), not a list`;
    const given = Object.keys(parameters ?? {});
    const missing = expected.filter((p) => !given.includes(p));
    const extra = given.filter((p) => !expected.includes(p));
    if (missing.length || extra.length) return [missing.length && `missing ${missing.join(', ')}`, extra.length && `not in the template: ${extra.join(', ')}`].filter(Boolean).join('; ');
    return undefined;
  }
  if (parameters !== undefined && !Array.isArray(parameters)) return `the template takes ${expected.length} positional parameter(s), not named ones`;
  const count = (parameters as readonly string[] | undefined)?.length ?? 0;
  if (count !== expected.length) return `the template takes ${expected.length} parameter(s), ${count} given`;
  return undefined;
}
