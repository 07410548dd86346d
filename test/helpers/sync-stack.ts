/**
 * The local stack as the CRM sync tests use it: a stack with short retry pauses, customers with
 * fresh identities, signed deliveries, and read-outs of our table, the queues and the local CRM.
 */
import { randomInt } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { LocalHubSpot } from '#local/hubspot/server';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '#local/stack';
import { deliver, type Customer } from '#local/webhooks';
import type { MessageRecord } from '#shared/domain/records';
import { until } from './until.ts';

export const SEARCH_LAG_MS = 50;

/** A stack of its own, in memory, with 1 s between sync attempts and 4 attempts before the DLQ. */
export function startSyncStack(options: { env?: Record<string, string>; onSynced?: LocalStackOptions['onSynced']; logger?: LocalStackOptions['logger'] } = {}): Promise<LocalStack> {
  return startLocalStack({
    dataDir: null,
    env: { PORT: '0', SYNC_RETRY_DELAY_SECONDS: '1', SYNC_MAX_ATTEMPTS: '4', ...options.env },
    crmSearchLagMs: SEARCH_LAG_MS,
    sweepIntervalMs: 500,
    ...(options.onSynced && { onSynced: options.onSynced }),
    ...(options.logger && { logger: options.logger }),
  });
}

export interface TestCustomer extends Customer {
  /** The phone in E.164 as our table and the CRM keep it; undefined for a BSUID-only customer. */
  readonly e164?: string;
}

let sequence = 0;

/** A Hong Kong mobile number (852 9[467]x xxxx), unique within this process. */
export function newPhone(): { waId: string; e164: string } {
  sequence += 1;
  const local = `9${'467'[sequence % 3]}${String((randomInt(0, 10_000) * 100 + sequence) % 1_000_000).padStart(6, '0')}`;
  return { waId: `852${local}`, e164: `+852${local}` };
}

export function newBsuid(): string {
  sequence += 1;
  return `HK.${randomInt(1, 1_000_000_000)}${String(sequence).padStart(6, '0')}${randomInt(0, 1_000_000)}`;
}

/** A customer with fresh identities; `phone: false` for a customer who hides their number. */
export function newCustomer(options: { phone?: boolean; name?: string } = {}): TestCustomer {
  const phone = options.phone === false ? undefined : newPhone();
  return {
    bsuid: newBsuid(),
    name: options.name ?? 'Mei Ling Chan',
    ...(phone && { waId: phone.waId, e164: phone.e164 }),
  };
}

/** Delivers a webhook signed with the stack's app secret and expects Meta's 200. */
export async function send(stack: LocalStack, payload: unknown): Promise<void> {
  const response = await deliver(stack.webhookUrl, payload, stack.env['WHATSAPP_APP_SECRET'] ?? '');
  const text = await response.text();
  expect(response.status, text).toBe(200);
}

export function crmOf(stack: LocalStack): LocalHubSpot {
  if (!stack.localCrm) throw new Error('the stack runs without its local CRM');
  return stack.localCrm;
}

export type CrmState = ReturnType<LocalHubSpot['state']>;
export type CrmContact = CrmState['contacts'][number];
export type CrmCommunication = CrmState['communications'][number];

export function crmContacts(stack: LocalStack, property?: string, value?: string): CrmContact[] {
  const contacts = crmOf(stack).state().contacts;
  return property === undefined ? contacts : contacts.filter((c) => c.properties[property] === value);
}

export function crmCommunications(stack: LocalStack, wamid?: string): CrmCommunication[] {
  const all = crmOf(stack).state().communications;
  return wamid === undefined ? all : all.filter((c) => c.properties['whatsapp_message_id'] === wamid);
}

export function messageRow(stack: LocalStack, wamid: string): Promise<MessageRecord | undefined> {
  return stack.runtime.store.messages.get(wamid);
}

/** Waits until every message is synced; returns their rows in the order given. */
export async function waitSynced(stack: LocalStack, wamids: readonly string[], timeoutMs = 10_000): Promise<MessageRecord[]> {
  return until(
    async () => {
      const rows = await Promise.all(wamids.map((wamid) => messageRow(stack, wamid)));
      const pending = rows.filter((row) => row?.syncState !== 'synced').length;
      return pending === 0 ? (rows as MessageRecord[]) : undefined;
    },
    timeoutMs,
    { what: `${wamids.length} message(s) synced` },
  );
}

/** Jobs in the sync queue (waiting and in flight) and in its DLQ. */
export async function queueDepths(stack: LocalStack): Promise<{ queued: number; inFlight: number; deadLetters: number }> {
  const attributes = async (url: string) =>
    (
      await stack.runtime.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      )
    ).Attributes ?? {};
  const [sync, dlq] = await Promise.all([attributes(stack.services.queueUrls.sync), attributes(stack.services.queueUrls.syncDlq)]);
  return {
    queued: Number(sync['ApproximateNumberOfMessages'] ?? 0),
    inFlight: Number(sync['ApproximateNumberOfMessagesNotVisible'] ?? 0),
    deadLetters: Number(dlq['ApproximateNumberOfMessages'] ?? 0),
  };
}

/** The stack's own /health report (what an operator sees). */
export async function health(stack: LocalStack): Promise<{ status: string; parts: { sqs: { syncQueued: number; syncInFlight: number; deadLetters: number } } }> {
  const response = await fetch(`${stack.url}/health`);
  return (await response.json()) as { status: string; parts: { sqs: { syncQueued: number; syncInFlight: number; deadLetters: number } } };
}

/** Calls the local CRM's API as a sales user (or a HubSpot form) would, not through our adapter. */
export async function crmRequest(stack: LocalStack, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const version = stack.runtime.config.crm.hubspot.apiVersion;
  const response = await fetch(`${stack.crmUrl}${path.replace('{v}', version)}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.env['HUBSPOT_ACCESS_TOKEN'] ?? ''}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** A contact the sales team typed into the CRM by hand; waits until the CRM's search sees it. */
export async function createSalesContact(stack: LocalStack, properties: Record<string, string>, searchBy: string): Promise<string> {
  const created = await crmRequest(stack, 'POST', '/crm/objects/{v}/contacts', { properties, associations: [] });
  expect(created.status).toBe(201);
  const id = (created.body as { id: string }).id;
  const value = properties[searchBy];
  await until(
    async () => {
      const found = await crmRequest(stack, 'POST', '/crm/objects/{v}/contacts/search', {
        filterGroups: [{ filters: [{ propertyName: searchBy, operator: 'EQ', value }] }],
      });
      return (found.body as { results: { id: string }[] }).results.some((r) => r.id === id);
    },
    5_000,
    { what: `the CRM search to index contact ${id}` },
  );
  return id;
}

/**
 * Exactly once: every message has one communication in the CRM, associated to `contactCrmId`,
 * and its row is synced with that communication's id. Returns the communications in order.
 */
export async function expectLoggedOnce(stack: LocalStack, wamids: readonly string[], contactCrmId: string): Promise<CrmCommunication[]> {
  const logged: CrmCommunication[] = [];
  for (const wamid of wamids) {
    const communications = crmCommunications(stack, wamid);
    expect(communications, `communications of ${wamid}`).toHaveLength(1);
    const [communication] = communications;
    expect(communication!.contactIds).toEqual([contactCrmId]);
    const row = await messageRow(stack, wamid);
    expect(row).toMatchObject({ syncState: 'synced', crmIds: { hubspot: communication!.id } });
    logged.push(communication!);
  }
  return logged;
}
