/**
 * A local stand-in for Meta's Graph API (WhatsApp Cloud API): the calls the system makes, with
 * Meta's request checks, answers and errors, and the signed status webhooks Meta sends after a
 * message is accepted. Plus inspection routes for people and tests:
 *   GET    /               the sends received, newest first (HTML)
 *   GET    /local/sends    the same as JSON
 *   GET    /local/faults   the faults armed
 *   POST   /local/faults   arm one: {"recipient": "+852…" | "HK.…", "code": 131047, "times"?, "async"?, "httpStatus"?, "title"?, "details"?}
 *   DELETE /local/faults   disarm all
 *   GET    /local/media    the media stored (SEED_MEDIA and what was added), as JSON
 *   POST   /local/media    add one: body = the bytes, content-type = its MIME type (?id=, ?filename=) → {id, sha256, sha256_base64, file_size}
 * Graph routes:
 *   POST /<version>/<PHONE_NUMBER_ID>/messages         (messages.ts, statuses.ts)
 *   GET  /<version>/<WABA_ID>/message_templates        (templates.ts)
 *   GET  /<version>/<MEDIA_ID>[?phone_number_id=]      media metadata: url (5 minutes), mime_type, sha256 (hex), file_size (media.ts);
 *                                                      checked before the node route: a stored media id is media, anything else a node
 *   GET  /<version>/<PHONE_NUMBER_ID>                  number health: verified_name, display_phone_number, quality_rating, id
 *   GET  /local/media-download/<MEDIA_ID>?expires=&sig=  the bytes behind a metadata `url` (the lookaside's part); expired or bad: 404
 * Every Graph route, and the media download, needs `Authorization: Bearer <token>` (or
 * `?access_token=`); a missing or wrong token is answered 401 with code 190.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { normalisePhone } from '#shared/phone';
import { DEFAULT_BUSINESS, newWamid } from '../webhooks.ts';
import { invalidToken, statusError, unknownObject, unknownPath, whatsappError, type GraphErrorAnswer } from './errors.ts';
import { addressingOf, parseSend, sendAnswer, type Address, type ParsedSend } from './messages.ts';
import { createMediaLibrary, MEDIA_DOWNLOAD_PATH, type AddedMedia, type MediaFaultKind, type MediaFaultOptions, type MediaInput, type MediaSummary } from './media.ts';
import { renderGraphPage } from './page.ts';
import {
  postSigned,
  sleep,
  statusPayload,
  type PricingType,
  type StatusBusiness,
  type StatusEvent,
  type StatusName,
  type StatusRecipient,
} from './statuses.ts';
import { DEFAULT_TEMPLATES, listTemplates, storeTemplate, type StoredTemplate, type TemplateSeed } from './templates.ts';
import { closeServer, listen, readBody as readRequestBody } from '../http.ts';

export type { TemplateSeed } from './templates.ts';
export type { PricingType } from './statuses.ts';
export type { AddedMedia, MediaFaultKind, MediaFaultOptions, MediaInput, MediaSummary } from './media.ts';
export { SEED_MEDIA } from './media.ts';

export interface GraphAccount {
  readonly wabaId: string;
  /** Digits with the country code, as in webhook metadata. Default 85230012345. */
  readonly displayPhone?: string;
  readonly verifiedName?: string;
  /** GREEN (default), YELLOW, RED, UNKNOWN. */
  readonly qualityRating?: string;
}

/** A WhatsApp user the stand-in knows (its "contact book"): lets status webhooks carry both ids. */
export interface GraphUser {
  readonly bsuid: string;
  readonly phone?: string;
  readonly name?: string;
  readonly username?: string;
}

/** Meta's answer to the next sends to one recipient. */
export interface GraphFault {
  readonly code: number;
  readonly title?: string;
  readonly details?: string;
  /** Default: the code's HTTP status in Meta's error table. */
  readonly httpStatus?: number;
  readonly subcode?: number;
  /** How many sends it answers. Default 1; Infinity for all. */
  readonly times?: number;
  /**
   * Accept the send (200, a wamid) and report the error as a `failed` status webhook instead, as
   * Meta does for failures found after acceptance (typically 131026, 131047, 131049, 131050).
   */
  readonly async?: boolean;
}

export interface StatusDelays {
  readonly sent: number;
  readonly delivered: number;
  readonly read: number;
}

export interface GraphStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Signs the status webhooks (X-Hub-Signature-256). */
  readonly appSecret: string;
  /** Where status webhooks go; none are posted without it. */
  readonly webhookUrl?: string;
  /** Business numbers by phone number id. Default: local/webhooks.ts DEFAULT_BUSINESS. */
  readonly accounts?: Readonly<Record<string, GraphAccount>>;
  /** The token requests need; when unset any bearer token is taken (but one is required). */
  readonly accessToken?: string;
  /** After acceptance, when each status is posted. Default 20 / 40 / 60 ms. */
  readonly statusDelaysMs?: Partial<StatusDelays>;
  /** Replaces the default templates (templates.ts DEFAULT_TEMPLATES). */
  readonly templates?: readonly TemplateSeed[];
  /** Meta's throughput per business number: more sends than this within a second get 130429. Default 80. */
  readonly messagesPerSecond?: number;
  readonly users?: readonly GraphUser[];
  /** Waits between the attempts of a webhook POST that is not answered 2xx. Default 50, 100, 200 ms. */
  readonly webhookRetryDelaysMs?: readonly number[];
  /** The clock of media download URLs (their 5 minutes). Default Date.now. */
  readonly now?: () => number;
  /** Serve SEED_MEDIA (made on first use). Default true. */
  readonly seedMedia?: boolean;
}

export interface RecordedStatus {
  readonly status: StatusName;
  readonly at: string;
  attempts: number;
  /** Answered 2xx by the webhook. */
  delivered: boolean;
  httpStatus?: number | undefined;
}

export interface RecordedSend {
  readonly seq: number;
  readonly at: string;
  readonly phoneNumberId: string;
  readonly to?: string | undefined;
  readonly recipient?: string | undefined;
  readonly type: string;
  /** The text, the template with its parameters, the caption… */
  readonly summary: string;
  readonly callbackData?: string | undefined;
  readonly wamid?: string | undefined;
  /**
   * accepted: answered 200, statuses follow; dropped: answered 200 but never delivered (a BSUID in
   * `to`), no statuses; failed: answered 200, then a `failed` status (an async fault);
   * rejected: answered with an error.
   */
  readonly outcome: 'accepted' | 'dropped' | 'failed' | 'rejected';
  readonly dropped: boolean;
  readonly httpStatus: number;
  readonly error?: { readonly code: number; readonly message: string } | undefined;
  readonly pricing?: { readonly category: string; readonly type: PricingType } | undefined;
  readonly statuses: RecordedStatus[];
  /** The body as received. */
  readonly request: unknown;
}

export interface GraphStandIn {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Every POST …/messages received, oldest first (copies). */
  sends(): RecordedSend[];
  setFault(recipient: string, fault: GraphFault): void;
  clearFaults(): void;
  setTemplates(templates: readonly TemplateSeed[]): void;
  /** `GET /<PHONE_NUMBER_ID>` answers after this long (a slow Graph API). */
  setHealthDelay(phoneNumberId: string, ms: number): void;
  /** Pricing type of the statuses of sends to this recipient (the stand-in does not know the window). */
  setPricingType(recipient: string, type: PricingType | undefined): void;
  setWebhookUrl(url: string | undefined): void;
  /** The token requests need from now on (a rotated token). */
  setAccessToken(token: string | undefined): void;
  /** Resolves once every status webhook scheduled so far has been posted (or given up). */
  idle(): Promise<void>;
  /** Stores a media object, as if a customer had sent it: its id (new unless given) and hashes. */
  addMedia(input: MediaInput): AddedMedia;
  /** Arms a fault on one media's metadata or download (media.ts); undefined disarms it. */
  mediaFault(mediaId: string, fault: MediaFaultKind | undefined, options?: MediaFaultOptions): void;
  /** A stored media's type, size and hashes (a seed's are made on first use); undefined when unknown. */
  media(mediaId: string): Promise<MediaSummary | undefined>;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const VERSION = String.raw`v\d+(?:\.\d+)?`;
const MESSAGES = new RegExp(`^/(${VERSION})/([^/]+)/messages$`);
const TEMPLATES = new RegExp(`^/(${VERSION})/([^/]+)/message_templates$`);
const NODE = new RegExp(`^/(${VERSION})/([^/]+)$`);
/** A free entry point window lasts 72 hours. */
const FREE_ENTRY_POINT_MS = 72 * 3600 * 1000;

export async function startGraphStandIn(options: GraphStandInOptions): Promise<GraphStandIn> {
  const accounts = new Map(
    Object.entries(
      options.accounts ?? { [DEFAULT_BUSINESS.phoneNumberId]: { wabaId: DEFAULT_BUSINESS.wabaId, displayPhone: DEFAULT_BUSINESS.displayPhone } },
    ),
  );
  const delays: StatusDelays = { sent: 20, delivered: 40, read: 60, ...options.statusDelaysMs };
  const retryDelays = options.webhookRetryDelaysMs ?? [50, 100, 200];
  const perSecond = options.messagesPerSecond ?? 80;
  const users = [...(options.users ?? [])];
  let webhookUrl = options.webhookUrl;
  let accessToken = options.accessToken;
  let templates = (options.templates ?? DEFAULT_TEMPLATES).map(storeTemplate);
  const faults = new Map<string, GraphFault & { remaining: number }>();
  const pricingTypes = new Map<string, PricingType>();
  const healthDelays = new Map<string, number>();
  const admitted = new Map<string, { tokens: number; at: number }>();
  const recorded: RecordedSend[] = [];
  const pending = new Set<Promise<void>>();
  const stopping = new AbortController();
  const media = createMediaLibrary({ now: options.now ?? Date.now, signal: stopping.signal, seeds: options.seedMedia });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, whatsappError(1, { details: error instanceof Error ? error.message : String(error) }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path === '/' && method === 'GET') {
      return sendHtml(res, renderGraphPage({ sends: recorded, faults: Object.fromEntries(faults), webhookUrl, templateCount: templates.length }));
    }
    if (path === '/local/sends' && method === 'GET') return sendJson(res, 200, snapshot());
    if (path === '/local/faults') return localFaults(req, res, method);
    if (path === '/local/media') return localMedia(req, res, url, method);
    if (path.startsWith(MEDIA_DOWNLOAD_PATH) && method === 'GET') return mediaDownload(req, res, url, decodeURIComponent(path.slice(MEDIA_DOWNLOAD_PATH.length)));

    let m: RegExpExecArray | null;
    if (method === 'POST' && (m = MESSAGES.exec(path))) return send(res, await receiveSend(req, url, m[2] ?? ''));
    if (method === 'GET' && (m = TEMPLATES.exec(path))) return send(res, templatesPage(req, url, m[1] ?? '', m[2] ?? ''));
    if (method === 'GET' && (m = NODE.exec(path)) && media.has(m[2] ?? '')) return send(res, await mediaMetadata(req, url, m[2] ?? ''));
    if (method === 'GET' && (m = NODE.exec(path))) return send(res, await numberHealth(req, url, m[2] ?? ''));
    if (path.startsWith('/v')) return send(res, unknownPath(path));
    return sendJson(res, 404, { error: `No route for ${method} ${path}` });
  }

  // ---- auth -------------------------------------------------------------------------------

  function authorised(req: IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : url.searchParams.get('access_token');
    if (!token) return false;
    return accessToken === undefined || token === accessToken;
  }

  // ---- POST /<PHONE_NUMBER_ID>/messages ---------------------------------------------------

  async function receiveSend(req: IncomingMessage, url: URL, phoneNumberId: string): Promise<GraphErrorAnswer | { status: number; body: unknown }> {
    const text = await readBody(req);
    let body: unknown;
    let parseFailed = false;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
      parseFailed = true;
    }
    const seq = recorded.length + 1;
    const base = {
      seq,
      at: new Date().toISOString(),
      phoneNumberId,
      ...addressingOf(body),
      request: body,
      statuses: [] as RecordedStatus[],
    };
    const reject = (answer: GraphErrorAnswer, parsed?: ParsedSend) => {
      const error = answer.body.error as { code: number; message: string };
      recorded.push({
        ...base,
        type: parsed?.type ?? typeOf(body),
        summary: parsed?.summary ?? '',
        callbackData: parsed?.callbackData,
        outcome: 'rejected',
        dropped: false,
        httpStatus: answer.status,
        error: { code: error.code, message: error.message },
      });
      return answer;
    };

    if (!authorised(req, url)) return reject(invalidToken());
    const account = accounts.get(phoneNumberId);
    if (!account) return reject(unknownObject('POST', phoneNumberId));
    if (!admit(phoneNumberId)) return reject(whatsappError(130429));
    if (parseFailed) return reject(whatsappError(100, { details: 'The request body is not valid JSON.' }));

    const checked = parseSend(body, { templates: templatesOf(account.wabaId), businessDigits: displayPhoneOf(account) });
    if (!checked.ok) return reject(checked.error);
    const parsed = checked.value;

    const fault = takeFault(parsed.address);
    if (fault && !fault.async) {
      return reject(whatsappError(fault.code, { title: fault.title, details: fault.details, httpStatus: fault.httpStatus, subcode: fault.subcode }), parsed);
    }

    const wamid = newWamid();
    const answer = { status: 200, body: sendAnswer(parsed, wamid) };
    const common = { ...base, type: parsed.type, summary: parsed.summary, callbackData: parsed.callbackData, wamid, httpStatus: 200 };
    if (parsed.address.kind === 'bsuid_in_to') {
      recorded.push({ ...common, outcome: 'dropped', dropped: true });
      return answer;
    }

    const business: StatusBusiness = { wabaId: account.wabaId, phoneNumberId, displayPhone: displayPhoneOf(account) };
    const recipient = statusRecipient(parsed.address);
    if (fault?.async) {
      const record: RecordedSend = { ...common, outcome: 'failed', dropped: false };
      recorded.push(record);
      const errors = [statusError(fault.code, { title: fault.title, details: fault.details })];
      schedule(record, business, recipient, [{ wamid, status: 'failed', delayMs: delays.sent, callbackData: parsed.callbackData, errors }]);
      return answer;
    }

    const pricing = {
      category: parsed.template ? parsed.template.category.toLowerCase() : 'service',
      type: pricingTypes.get(keyOf(parsed.address)) ?? (parsed.template ? 'regular' : 'free_customer_service'),
    } as const;
    const conversation =
      pricing.type === 'free_entry_point' ? { id: randomBytes(16).toString('hex'), expiresAtMs: Date.now() + FREE_ENTRY_POINT_MS } : undefined;
    const record: RecordedSend = { ...common, outcome: 'accepted', dropped: false, pricing };
    recorded.push(record);
    const event = { wamid, callbackData: parsed.callbackData, pricing, conversation };
    schedule(record, business, recipient, [
      { ...event, status: 'sent', delayMs: delays.sent },
      { ...event, status: 'delivered', delayMs: delays.delivered },
      { ...event, status: 'read', delayMs: delays.read },
    ]);
    return answer;
  }

  /**
   * Meta's throughput limit as a token bucket per business number: `perSecond` sends a second
   * sustained, at most a second's worth at once. Meta documents the rate, not its window; a bucket
   * catches any sender that keeps above the rate, and does not fault one whose evenly paced sends
   * merely arrive bunched by the network (or by this process being busy).
   */
  function admit(phoneNumberId: string): boolean {
    const now = Date.now();
    const bucket = admitted.get(phoneNumberId) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    const ok = bucket.tokens >= 1;
    if (ok) bucket.tokens -= 1;
    admitted.set(phoneNumberId, bucket);
    return ok;
  }

  function takeFault(address: Address): (GraphFault & { remaining: number }) | undefined {
    const keys = address.kind === 'phone' ? [address.digits, address.bsuid] : [keyOf(address)];
    for (const key of keys) {
      const fault = key === undefined ? undefined : faults.get(key);
      if (!fault) continue;
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.delete(key as string);
      return fault;
    }
    return undefined;
  }

  /** Who the statuses name: the phone shown when sent to it or known for the BSUID, and a BSUID always. */
  function statusRecipient(address: Address): StatusRecipient {
    if (address.kind === 'phone') {
      const user = users.find((u) => u.phone !== undefined && digitsOf(u.phone) === address.digits);
      return {
        waId: address.digits,
        bsuid: address.bsuid ?? user?.bsuid ?? derivedBsuid(address.digits),
        sentToBsuid: false,
        name: user?.name,
        username: user?.username,
      };
    }
    const bsuid = address.kind === 'bsuid' ? address.bsuid : address.value;
    const user = users.find((u) => u.bsuid === bsuid);
    return { waId: user?.phone && digitsOf(user.phone), bsuid, sentToBsuid: true, name: user?.name, username: user?.username };
  }

  type Planned = Omit<StatusEvent, 'atMs'> & { readonly delayMs: number };

  /** Posts the statuses in order, each at its delay after acceptance (or right after the previous one). */
  function schedule(record: RecordedSend, business: StatusBusiness, recipient: StatusRecipient, plan: readonly Planned[]): void {
    const start = Date.now();
    const chain = (async () => {
      for (const { delayMs, ...event } of plan) {
        await sleep(start + delayMs - Date.now(), stopping.signal);
        if (stopping.signal.aborted) return;
        const atMs = Date.now();
        const status: RecordedStatus = { status: event.status, at: new Date(atMs).toISOString(), attempts: 0, delivered: false };
        record.statuses.push(status);
        if (!webhookUrl) continue;
        const payload = statusPayload(business, recipient, { ...event, atMs });
        Object.assign(status, await postSigned(webhookUrl, payload, options.appSecret, retryDelays, stopping.signal));
      }
    })();
    pending.add(chain);
    void chain.finally(() => pending.delete(chain));
  }

  // ---- GET /<WABA_ID>/message_templates ---------------------------------------------------

  function templatesPage(req: IncomingMessage, url: URL, version: string, wabaId: string) {
    if (!authorised(req, url)) return invalidToken();
    if (![...accounts.values()].some((a) => a.wabaId === wabaId)) return unknownObject('GET', wabaId);
    const page = listTemplates(templatesOf(wabaId), url.searchParams, `${publicUrl}/${version}/${wabaId}/message_templates`);
    return page ? { status: 200, body: page } : whatsappError(100, { details: 'Invalid pagination cursor.' });
  }

  function templatesOf(wabaId: string): StoredTemplate[] {
    return templates.filter((t) => t.wabaId === undefined || t.wabaId === wabaId);
  }

  // ---- GET /<PHONE_NUMBER_ID> -------------------------------------------------------------

  /**
   * The business number's node. Default fields as asked for this stand-in (verified_name,
   * display_phone_number, quality_rating, id); `fields=` may also ask code_verification_status,
   * platform_type, throughput and name_status. display_phone_number is formatted as Meta shows
   * it ("+1 631-555-5555"), unlike the digits of webhook metadata.
   */
  async function numberHealth(req: IncomingMessage, url: URL, phoneNumberId: string) {
    if (!authorised(req, url)) return invalidToken();
    const account = accounts.get(phoneNumberId);
    if (!account) return unknownObject('GET', phoneNumberId);
    await sleep(healthDelays.get(phoneNumberId) ?? 0, stopping.signal);
    const digits = displayPhoneOf(account);
    const all: Record<string, unknown> = {
      verified_name: account.verifiedName ?? 'Local Business',
      display_phone_number: parsePhoneNumberFromString(`+${digits}`)?.formatInternational() ?? `+${digits}`,
      quality_rating: account.qualityRating ?? 'GREEN',
      code_verification_status: 'VERIFIED',
      platform_type: 'CLOUD_API',
      throughput: { level: 'STANDARD' },
      name_status: 'APPROVED',
      id: phoneNumberId,
    };
    const fields = url.searchParams.get('fields')?.split(',').map((f) => f.trim()) ?? ['verified_name', 'display_phone_number', 'quality_rating'];
    return { status: 200, body: Object.fromEntries(Object.entries(all).filter(([key]) => key === 'id' || fields.includes(key))) };
  }

  // ---- GET /<MEDIA_ID>, the download, /local/media ---------------------------------------

  async function mediaMetadata(req: IncomingMessage, url: URL, mediaId: string) {
    if (!authorised(req, url)) return invalidToken();
    return media.metadata(mediaId, publicUrl, () => unknownObject('GET', mediaId));
  }

  async function mediaDownload(req: IncomingMessage, res: ServerResponse, url: URL, mediaId: string): Promise<void> {
    if (!authorised(req, url)) return send(res, invalidToken());
    return media.download(res, mediaId, url);
  }

  async function localMedia(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    if (method === 'GET') return sendJson(res, 200, await media.list());
    if (method === 'POST') {
      const answer = await media.upload(req, url);
      return sendJson(res, answer.status, answer.body);
    }
    return sendJson(res, 405, { error: 'GET or POST' });
  }

  // ---- /local/faults ----------------------------------------------------------------------

  async function localFaults(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'GET') return sendJson(res, 200, Object.fromEntries(faults));
    if (method === 'DELETE') {
      faults.clear();
      return sendJson(res, 200, { ok: true });
    }
    if (method !== 'POST') return sendJson(res, 405, { error: 'GET, POST or DELETE' });
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: 'invalid JSON' });
    }
    if (typeof input.recipient !== 'string' || typeof input.code !== 'number') {
      return sendJson(res, 400, { error: 'needs {"recipient": string, "code": number}' });
    }
    setFault(input.recipient, input as unknown as GraphFault);
    return sendJson(res, 201, { ok: true, faults: Object.fromEntries(faults) });
  }

  function setFault(recipient: string, fault: GraphFault): void {
    faults.set(recipientKey(recipient), { ...fault, remaining: fault.times ?? 1 });
  }

  function snapshot(): RecordedSend[] {
    return structuredClone(recorded);
  }

  const listening = await listen(server, options.port, options.host);
  const publicUrl = listening.url;

  return {
    url: publicUrl,
    port: listening.port,
    async close() {
      stopping.abort();
      await Promise.allSettled([...pending]);
      await closeServer(server);
    },
    sends: snapshot,
    setFault,
    clearFaults: () => faults.clear(),
    setTemplates(next) {
      templates = next.map(storeTemplate);
    },
    setHealthDelay: (phoneNumberId, ms) => void healthDelays.set(phoneNumberId, ms),
    setPricingType(recipient, type) {
      if (type) pricingTypes.set(recipientKey(recipient), type);
      else pricingTypes.delete(recipientKey(recipient));
    },
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    setAccessToken(token) {
      accessToken = token;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    addMedia: (input) => media.add(input),
    mediaFault: (mediaId, fault, faultOptions) => media.setFault(mediaId, fault, faultOptions),
    media: (mediaId) => media.describe(mediaId),
  };
}

/** Faults and pricing are kept by phone digits (no `+`) or by BSUID. */
function recipientKey(recipient: string): string {
  return /^\+?[0-9]+$/.test(recipient) ? digitsOf(recipient) : recipient;
}

function keyOf(address: Address): string {
  return address.kind === 'phone' ? address.digits : address.kind === 'bsuid' ? address.bsuid : address.value;
}

const digitsOf = (phone: string) => phone.replace(/[^0-9]/g, '');

function displayPhoneOf(account: GraphAccount): string {
  return digitsOf(account.displayPhone ?? DEFAULT_BUSINESS.displayPhone);
}

/** A stable BSUID for a phone the stand-in was not told about: its region, a period, 20 digits. */
function derivedBsuid(digits: string): string {
  const region = normalisePhone(digits, 'US').region ?? 'US';
  const number = BigInt(`0x${createHash('sha256').update(digits).digest('hex').slice(0, 24)}`);
  return `${region}.${number.toString().padStart(20, '0').slice(0, 20)}`;
}

function typeOf(body: unknown): string {
  const type = body !== null && typeof body === 'object' ? (body as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type : 'text';
}

const readBody = (req: IncomingMessage): Promise<string> => readRequestBody(req, MAX_BODY_BYTES);

function send(res: ServerResponse, answer: { status: number; body: unknown }): void {
  const error = (answer.body as { error?: { message?: string; code?: number } } | undefined)?.error;
  if (error?.message) {
    // Meta's error answers carry this header too.
    const kind = error.code === 190 ? 'invalid_token' : 'invalid_request';
    res.setHeader('www-authenticate', `OAuth "Facebook Platform" "${kind}" "${error.message.replace(/"/g, "'")}"`);
  }
  sendJson(res, answer.status, answer.body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}
