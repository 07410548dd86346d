/**
 * A local stand-in for the generic CRM webhook's receiver: a catch hook as Zapier's Catch Raw
 * Hook or Make's custom webhook is, plus what a careful Zap does with it — verify the Standard
 * Webhooks signature (with the `standardwebhooks` library, 5-minute tolerance), drop a repeated
 * `webhook-id`, and keep contacts, messages, opportunities and tasks from the events.
 *   POST /hooks/catch    the hook (200 taken or duplicate, 401 bad signature, 410 gone, 429 rate limited)
 *   GET  /               what it holds and the event log (HTML)
 *   GET  /_local/state   the same as JSON
 * It implements CrmStandIn for the contract suite, the bench and `SCRM_CRM=webhook npm start`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { ENV, SECRET_KEYS } from '#shared/resources';
import type { CrmStandIn, StandInFault, StandInOperation, StandInRateLimit } from '../crm/stand-in.ts';
import { closeServer, listen, readBody } from '../http.ts';
import { renderHomePage } from './page.ts';
import { ReceiverStore, type ReceivedEvent } from './store.ts';

export type { ReceivedEvent } from './store.ts';

export interface WebhookReceiverOptions {
  readonly port?: number;
  readonly host?: string;
  /** The `whsec_` secret signatures are checked with. Default: the data file's, else a new random one. */
  readonly secret?: string;
  /** Where the events are kept across restarts (JSON). */
  readonly dataFile?: string;
  /** Enforced from the start (see setRateLimit). */
  readonly rateLimit?: StandInRateLimit;
  /** Path of the hook. Default /hooks/catch. */
  readonly path?: string;
}

export interface WebhookReceiver extends CrmStandIn {
  /** The URL to POST events to (CRM_WEBHOOK_URL). */
  readonly hookUrl: string;
  /** The secret checked now (CRM_WEBHOOK_SECRET). */
  secret(): string;
  /** Rotates the secret: from now on only signatures made with it are taken. */
  setSecret(secret: string): void;
  /** Every event taken, once per webhook-id, in the order received. */
  events(): ReceivedEvent[];
  /** Deliveries of an id already taken: answered 200, not kept again. */
  duplicates(): number;
  /** Deliveries refused for their signature or timestamp (401). */
  rejected(): number;
  /** From now on (true) every delivery is answered 410 Gone, as by a deleted Zap or scenario. */
  setGone(gone: boolean): void;
}

/** Make's documented limit of a webhook payload: 5 MB. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Which fault operation an event type is (requests are counted by it too). */
const OPERATIONS: Readonly<Record<string, StandInOperation | 'report-write'>> = {
  'contact.upserted': 'contact-write',
  'contacts.updated': 'contact-write',
  'message.logged': 'message-write',
  'opportunity.created': 'opportunity-write',
  'task.created': 'task-write',
  'service.report': 'report-write',
};

/** A `whsec_` secret of 32 random bytes (Standard Webhooks: 24 to 64). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const path = options.path ?? '/hooks/catch';
  const store = new ReceiverStore(options.secret ?? newWebhookSecret(), options.dataFile);
  await store.load({ keepGivenSecret: options.secret !== undefined });
  // A generated secret is written at once: a restart before the first event keeps it.
  await store.flushed();
  let verifier = new Webhook(store.secret);
  let faults: StandInFault[] = [];
  let rateLimit = options.rateLimit;
  /** Times (ms) of the requests inside the current rate-limit window. */
  let window: number[] = [];
  let gone = false;
  let rejected = 0;
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, { status: 'error', message: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/') {
      return sendHtml(res, renderHomePage(store, { hookUrl: listening.url + path, gone, rejected, rateLimited: counts.get('rateLimited') ?? 0 }));
    }
    if (method === 'GET' && url.pathname === '/_local/state') return send(res, 200, state());
    if (url.pathname !== path) return send(res, 404, { status: 'error', message: `No hook at ${method} ${url.pathname}` });
    if (method !== 'POST') return send(res, 405, { status: 'error', message: 'POST events to this hook' });

    let raw: string;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch {
      return send(res, 413, { status: 'error', message: 'Payload too large' });
    }
    const payload = parseEvent(raw);
    const operation = (payload && OPERATIONS[payload.type]) ?? 'other';
    count('total');
    count(operation);

    if (gone) return send(res, 410, { status: 'error', message: 'This hook no longer exists' });
    const retryAfterSeconds = takeRateSlot();
    if (retryAfterSeconds !== undefined) {
      count('rateLimited');
      res.setHeader('retry-after', String(retryAfterSeconds));
      return send(res, 429, { status: 'error', message: 'Too many requests' });
    }
    const fault = takeFault(operation);
    if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault);

    const headers = signatureHeaders(req);
    try {
      verifier.verify(raw, headers);
    } catch {
      rejected += 1;
      count('rejected');
      return send(res, 401, { status: 'error', message: 'Invalid signature' });
    }
    if (!payload) return send(res, 400, { status: 'error', message: 'The body is not an event: { type, timestamp, data }' });

    const id = headers['webhook-id'];
    if (store.has(id)) {
      store.duplicates += 1;
      count('duplicates');
      await store.flushed();
      return send(res, 200, { status: 'success', id, duplicate: true });
    }
    store.accept({ id, type: payload.type, webhookTimestamp: Number(headers['webhook-timestamp']), receivedAt: Date.now(), payload });
    // Like a real receiver, an event is answered once it is durable.
    await store.flushed();
    if (fault?.afterCommitDelayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, fault.afterCommitDelayMs));
      if (fault.dropConnection) {
        res.socket?.destroy();
        return;
      }
      if (fault.status !== undefined && (fault.status < 200 || fault.status >= 300)) return answerFault(res, { ...fault, afterCommitDelayMs: undefined });
    }
    send(res, 200, { status: 'success', id });
  }

  /** undefined when the request may go; else the seconds until a slot frees (Retry-After). */
  function takeRateSlot(): number | undefined {
    if (!rateLimit) return undefined;
    const now = Date.now();
    window = window.filter((at) => at > now - rateLimit!.windowMs);
    if (window.length >= rateLimit.requests) return Math.max(1, Math.ceil((window[0]! + rateLimit.windowMs - now) / 1000));
    window.push(now);
    return undefined;
  }

  function takeFault(operation: string): StandInFault | undefined {
    const index = faults.findIndex((f) => f.operation === 'any' || f.operation === operation);
    if (index < 0) return undefined;
    return faults.splice(index, 1)[0];
  }

  function state() {
    return {
      hookUrl: listening.url + path,
      gone,
      counts: Object.fromEntries(counts),
      duplicates: store.duplicates,
      rejected,
      contacts: [...store.contacts.values()],
      messages: [...store.messages.values()],
      opportunities: [...store.opportunities.values()],
      tasks: [...store.tasks.values()],
      reports: [...store.reports.values()],
      events: store.allEvents(),
    };
  }

  const listening = await listen(server, options.port ?? 0, options.host);
  const hookUrl = listening.url + path;

  return {
    kind: 'webhook',
    url: listening.url,
    hookUrl,
    get env() {
      return { [ENV.crmWebhookUrl]: hookUrl, [SECRET_KEYS.crmWebhookSecret]: store.secret };
    },
    capabilities: { salesContacts: false, readBack: false, cases: false },
    contacts: () =>
      [...store.contacts.values()].map((c) => ({
        id: c.id,
        bsuid: c.bsuid,
        phone: c.phone,
        salesPhones: [],
        // A catch hook has no names of its own: the WhatsApp profile name is what it got.
        firstName: c.profileName,
        lastName: undefined,
        leadSource: c.leadSource,
        fields: { ...c.fields },
      })),
    messages: () => [...store.messages.values()].map((m) => ({ id: m.id, wamid: m.wamid, contactId: m.contactId, body: m.body })),
    opportunities: () => [...store.opportunities.values()].map((o) => ({ id: o.id, opportunityId: o.opportunityId, contactId: o.contactId, sku: o.sku })),
    tasks: () => [...store.tasks.values()].map((t) => ({ id: t.id, taskId: t.taskId, contactId: t.contactId, subject: t.subject })),
    cases: () => [],
    createSalesContact: () => Promise.reject(new Error('A webhook receiver has no sales-made contacts (capabilities.salesContacts is false)')),
    setFaults(next) {
      faults = [...next];
    },
    setRateLimit(limit) {
      rateLimit = limit;
      window = [];
    },
    requests: () => Object.fromEntries(counts),
    resetRequests: () => counts.clear(),
    secret: () => store.secret,
    setSecret(secret) {
      verifier = new Webhook(secret);
      store.secret = secret;
      void store.flushed();
    },
    events: () => store.allEvents(),
    duplicates: () => store.duplicates,
    rejected: () => rejected,
    setGone(next) {
      gone = next;
    },
    async stop() {
      await closeServer(server);
      await store.flushed();
    },
  };
}

/** The body as an event envelope, or undefined when it is not one. */
function parseEvent(raw: string): ReceivedEvent['payload'] | undefined {
  try {
    const body = JSON.parse(raw) as unknown;
    if (!body || typeof body !== 'object') return undefined;
    const { type, timestamp, data } = body as Record<string, unknown>;
    if (typeof type !== 'string' || typeof timestamp !== 'string' || !data || typeof data !== 'object' || Array.isArray(data)) return undefined;
    return { type, timestamp, data: data as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

function signatureHeaders(req: IncomingMessage): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(' ') : (value ?? '');
  };
  return { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') };
}

async function answerFault(res: ServerResponse, fault: StandInFault): Promise<void> {
  if (fault.dropConnection) {
    res.socket?.destroy();
    return;
  }
  const status = fault.status ?? 500;
  if (fault.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.retryAfterSeconds));
  send(res, status, fault.body ?? { status: 'error', message: `Injected fault ${status}` });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
  res.end(html);
}
