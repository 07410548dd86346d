/**
 * A local stand-in for AfterShip's Tracking API: the calls the courier adapter
 * (shared/courier/aftership.ts) makes, with AfterShip's envelope, error codes and headers, and the
 * signed `tracking_update` webhooks AfterShip posts when a parcel moves. Base URLs are
 * configuration, so the real adapter runs against it unchanged.
 *
 * AfterShip routes (any date version, e.g. /tracking/2026-07/…; the answer's `as-api-version`
 * echoes it):
 *   GET  /tracking/<version>/trackings?tracking_numbers=A,B&slug=x,y   {meta, data: {pagination, trackings}}
 *   POST /tracking/<version>/trackings  {tracking_number, slug?, …}     201 {meta: {code: 201}, data: <tracking>}
 *   GET  /tracking/<version>/trackings/<id>                             {meta, data: <tracking>} | 404 (4004)
 * Every AfterShip route needs the `as-api-key` header: missing or wrong → 401
 * `{"meta": {"code": 401, "message": "The API key is invalid.", "type": "Unauthorized"}, "data": {}}`.
 * Create errors: invalid JSON 4001, no tracking_number 4007, a number outside AfterShip's format
 * (4–100 of A–Z 0–9 - . _ /) 4017, an existing number (same slug) 4003, a number starting with
 * NOCARRIER 4012 (no carrier recognises it) — all HTTP 400 but 4004 (404). A create without a
 * slug detects it from the number (1Z… ups, SF… sf-express, two letters + 9 digits + HK
 * hong-kong-post), else `unrecognized`. New trackings start as `Pending` (Pending_001).
 * Answers carry `X-RateLimit-Limit` / `-Remaining` / `-Reset` (Unix seconds) per endpoint as
 * AfterShip counts them (POST 20/s, GET list 6/s, others 5/s); limits are reported, not enforced
 * — a 429 is injected as a fault.
 *
 * Local routes, for people and tests:
 *   GET    /local/parcels   every tracking (JSON)
 *   POST   /local/faults    {"status": 429|500|502|503|504, "times"?, "retryAfterSeconds"?} or {"delayMs": n, "times"?}
 *   DELETE /local/faults
 *   POST   /local/advance   {"tracking_number": "…", "tag": "Delivered", "subtag"?, "message"?, "location"?}
 *
 * Seeds (unless `seed: false`), relative to the start time (or `seedAt`), dates in Hong Kong time:
 *   SF1234567890        sf-express, OutForDelivery (OutForDelivery_001), to HKG; courier ETA window
 *                       from 1 h to 5 h after the start, +08:00 (`courier_estimated_delivery_date` min/max)
 *   1Z999AA10123456784  ups, InTransit (InTransit_002), USA → HKG; AfterShip AI ETA the day after
 *                       tomorrow (`aftership_estimated_delivery_date`, a date)
 *   RR123456785HK       hong-kong-post, Delivered (Delivered_001), delivered yesterday 11:20 +08:00
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AFTERSHIP_SIGNATURE_HEADER, DEFAULT_AFTERSHIP_API_VERSION, signAfterShipWebhook, type AfterShipTracking } from '#shared/courier/aftership';
import { closeServer, listen, readBody as readRequestBody } from '../http.ts';

export type AfterShipTag = 'Pending' | 'InfoReceived' | 'InTransit' | 'OutForDelivery' | 'AttemptFail' | 'Delivered' | 'AvailableForPickup' | 'Exception' | 'Expired';

/** AfterShip's answer to the next requests: an error status, or a slow answer. */
export type CourierStandInFault =
  | { readonly status: 429 | 500 | 502 | 503 | 504; readonly times?: number; /** 429 only: seconds until X-RateLimit-Reset (default 1). */ readonly retryAfterSeconds?: number }
  | { readonly delayMs: number; readonly times?: number };

export interface CourierStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** The `as-api-key` every AfterShip route requires. */
  readonly apiKey: string;
  /** Signs the webhooks (`aftership-hmac-sha256`). */
  readonly webhookSecret: string;
  /** Where webhooks go; none are posted without it. */
  readonly webhookUrl?: string;
  /** The `as-webhook-version` header of the webhooks. Default the current API version. */
  readonly webhookVersion?: string;
  /** Seed the parcels listed above. Default true. */
  readonly seed?: boolean;
  /** The clock (seeds, timestamps). Default Date.now. */
  readonly now?: () => number;
  /** The moment the seeds are relative to. Default the clock at start. */
  readonly seedAt?: number;
}

export interface RecordedCourierRequest {
  readonly at: string;
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly status: number;
}

export interface WebhookDelivery {
  readonly eventId: string;
  readonly rawBody: string;
  readonly signature: string;
  /** The receiver's status; undefined when no webhook URL is set or the POST failed. */
  readonly status?: number | undefined;
  readonly error?: string | undefined;
}

export interface AdvanceOptions {
  readonly subtag?: string;
  readonly subtagMessage?: string;
  /** The new checkpoint's message. */
  readonly message?: string;
  readonly location?: string;
}

export interface CourierStandIn {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Creates or updates a tracking with AfterShip's own field names; returns a copy. */
  setParcel(trackingNumber: string, fields?: Partial<AfterShipTracking>): AfterShipTracking;
  /** Moves a parcel to `tag` with a new checkpoint, and posts the signed `tracking_update` webhook. */
  advance(trackingNumber: string, tag: AfterShipTag, options?: AdvanceOptions): Promise<WebhookDelivery>;
  setWebhookUrl(url: string | undefined): void;
  /** Every tracking (copies). */
  parcels(): AfterShipTracking[];
  injectFault(fault: CourierStandInFault): void;
  clearFaults(): void;
  /** Every request to an AfterShip route, oldest first. */
  requests(): RecordedCourierRequest[];
  requestCount(): number;
  /** Every webhook posted, oldest first. */
  webhooks(): WebhookDelivery[];
}

const MAX_BODY_BYTES = 1024 * 1024;
const LIST = /^\/tracking\/(\d{4}-\d{2})\/trackings$/;
const ONE = /^\/tracking\/(\d{4}-\d{2})\/trackings\/([^/]+)$/;
const TRACKING_NUMBER = /^[A-Za-z0-9._/-]{4,100}$/;
const MAX_LISTED_NUMBERS = 50;
const HONG_KONG = 'Asia/Hong_Kong';

/** AfterShip's first subtag of each tag and its message (docs: Delivery Sub-statuses). */
const DEFAULT_SUBTAGS: Readonly<Record<AfterShipTag, readonly [string, string]>> = {
  Pending: ['Pending_001', 'Pending'],
  InfoReceived: ['InfoReceived_001', 'Info Received'],
  InTransit: ['InTransit_001', 'In Transit'],
  OutForDelivery: ['OutForDelivery_001', 'Out for Delivery'],
  AttemptFail: ['AttemptFail_001', 'Failed Attempt'],
  Delivered: ['Delivered_001', 'Delivered'],
  AvailableForPickup: ['AvailableForPickup_001', 'Available for pickup'],
  Exception: ['Exception_001', 'Exception'],
  Expired: ['Expired_001', 'Expired'],
};

const ERRORS = {
  400: [400, 'BadRequest', 'The request was invalid or cannot be otherwise served.'],
  4001: [400, 'BadRequest', 'Invalid JSON data.'],
  4003: [400, 'BadRequest', 'Tracking already exists.'],
  4004: [404, 'BadRequest', 'Tracking does not exist.'],
  4007: [400, 'BadRequest', 'tracking_number is required.'],
  4008: [400, 'BadRequest', 'The value of tracking_numbers is invalid.'],
  4012: [400, 'BadRequest', 'Unable to import shipment as we don’t recognize the carrier from this tracking number.'],
  4017: [400, 'BadRequest', 'The format of tracking_number is invalid.'],
  401: [401, 'Unauthorized', 'The API key is invalid.'],
  404: [404, 'NotFound', 'The URI requested is invalid or the resource requested does not exist.'],
  429: [429, 'TooManyRequests', 'You have exceeded the API call rate limit. The default limit is 10 requests per second.'],
  500: [500, 'InternalError', "Something went wrong on AfterShip's end."],
} as const satisfies Record<number, readonly [number, string, string]>;

type Answer = { readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> };

function error(code: keyof typeof ERRORS, status?: number): Answer {
  const [http, type, message] = ERRORS[code];
  return { status: status ?? http, body: { meta: { code, message, type }, data: {} } };
}

export async function startCourierStandIn(options: CourierStandInOptions): Promise<CourierStandIn> {
  const now = options.now ?? Date.now;
  const trackings = new Map<string, AfterShipTracking>();
  /** Tags each tracking has been in (for `is_tracking_first_tag`). */
  const tagsSeen = new Map<string, Set<string>>();
  const faults: (CourierStandInFault & { remaining: number })[] = [];
  const recorded: RecordedCourierRequest[] = [];
  const delivered: WebhookDelivery[] = [];
  const windows = new Map<string, { second: number; count: number }>();
  const stopping = new AbortController();
  let webhookUrl = options.webhookUrl;

  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  function findByNumber(number: string, slug?: string): AfterShipTracking[] {
    const wanted = number.toUpperCase();
    return [...trackings.values()].filter((t) => t.tracking_number.toUpperCase() === wanted && (slug === undefined || t.slug === slug));
  }

  function newTracking(number: string, slug: string, fields: Partial<AfterShipTracking> = {}): AfterShipTracking {
    const at = iso(now());
    const tag = (fields.tag as AfterShipTag | undefined) ?? 'Pending';
    const [subtag, subtagMessage] = DEFAULT_SUBTAGS[tag] ?? DEFAULT_SUBTAGS.Pending;
    const tracking: AfterShipTracking = {
      id: randomBytes(16).toString('hex'),
      legacy_id: randomBytes(12).toString('hex'),
      tracking_number: number,
      slug,
      active: true,
      title: number,
      tag,
      subtag,
      subtag_message: subtagMessage,
      created_at: at,
      updated_at: at,
      origin_country_region: null,
      destination_country_region: null,
      courier_destination_country_region: null,
      courier_tracking_link: trackingLink(slug, number),
      aftership_tracking_url: null,
      shipment_delivery_date: null,
      courier_estimated_delivery_date: null,
      aftership_estimated_delivery_date: null,
      custom_estimated_delivery_date: null,
      first_estimated_delivery: null,
      latest_estimated_delivery: null,
      return_to_sender: false,
      custom_fields: null,
      checkpoints: [],
      ...fields,
    };
    trackings.set(tracking.id as string, tracking);
    tagsSeen.set(tracking.id as string, new Set([tag]));
    return tracking;
  }

  function setParcel(trackingNumber: string, fields: Partial<AfterShipTracking> = {}): AfterShipTracking {
    const slug = fields.slug ?? undefined;
    const existing = findByNumber(trackingNumber, slug ?? undefined)[0];
    if (!existing) return structuredClone(newTracking(trackingNumber, slug ?? detectSlug(trackingNumber) ?? 'unrecognized', fields));
    const tag = fields.tag as AfterShipTag | undefined;
    const defaults = tag && tag !== existing.tag && fields.subtag === undefined ? { subtag: DEFAULT_SUBTAGS[tag]?.[0], subtag_message: DEFAULT_SUBTAGS[tag]?.[1] } : {};
    Object.assign(existing, defaults, fields, { updated_at: iso(now()) });
    if (tag) tagsSeen.get(existing.id as string)?.add(tag);
    return structuredClone(existing);
  }

  async function advance(trackingNumber: string, tag: AfterShipTag, advanceOptions: AdvanceOptions = {}): Promise<WebhookDelivery> {
    const tracking = findByNumber(trackingNumber)[0];
    if (!tracking) throw new Error(`the stand-in has no parcel ${trackingNumber}`);
    const [defaultSubtag, defaultMessage] = DEFAULT_SUBTAGS[tag];
    const subtag = advanceOptions.subtag ?? defaultSubtag;
    const subtagMessage = advanceOptions.subtagMessage ?? (advanceOptions.subtag ? tag : defaultMessage);
    const at = iso(now());
    const seen = tagsSeen.get(tracking.id as string) ?? new Set<string>();
    const first = !seen.has(tag);
    seen.add(tag);
    tagsSeen.set(tracking.id as string, seen);
    tracking.checkpoints = [
      ...(tracking.checkpoints ?? []),
      {
        slug: tracking.slug,
        created_at: at,
        checkpoint_time: at,
        location: advanceOptions.location ?? null,
        country_region: tracking.destination_country_region ?? null,
        message: advanceOptions.message ?? subtagMessage,
        tag,
        subtag,
        subtag_message: subtagMessage,
        source: 'courier',
      },
    ];
    Object.assign(tracking, {
      tag,
      subtag,
      subtag_message: subtagMessage,
      updated_at: at,
      active: tag !== 'Delivered' && tag !== 'Expired',
      ...(tag === 'Delivered' && { shipment_delivery_date: at }),
      ...(subtag === 'Exception_010' || subtag === 'Exception_011' ? { return_to_sender: true } : {}),
    });
    const body = JSON.stringify({ event: 'tracking_update', event_id: randomUUID(), is_tracking_first_tag: first, msg: tracking, ts: Math.floor(now() / 1000) });
    return post(body);
  }

  async function post(rawBody: string): Promise<WebhookDelivery> {
    const eventId = (JSON.parse(rawBody) as { event_id: string }).event_id;
    const signature = signAfterShipWebhook(rawBody, options.webhookSecret);
    let delivery: WebhookDelivery = { eventId, rawBody, signature };
    if (webhookUrl) {
      try {
        const response = await fetch(webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [AFTERSHIP_SIGNATURE_HEADER]: signature,
            'as-webhook-version': options.webhookVersion ?? DEFAULT_AFTERSHIP_API_VERSION,
            'user-agent': 'AfterShipTrackingWebhook/4.0.0 (local stand-in)',
          },
          body: rawBody,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(10_000)]),
        });
        await response.arrayBuffer();
        delivery = { ...delivery, status: response.status };
      } catch (e) {
        delivery = { ...delivery, error: e instanceof Error ? e.message : String(e) };
      }
    }
    delivered.push(delivery);
    return delivery;
  }

  // ---- HTTP -------------------------------------------------------------------------------

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { meta: { code: 500, message: e instanceof Error ? e.message : String(e), type: 'InternalError' }, data: {} });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path === '/local/parcels' && method === 'GET') return sendJson(res, 200, [...trackings.values()]);
    if (path === '/local/faults') return localFaults(req, res, method);
    if (path === '/local/advance' && method === 'POST') return localAdvance(req, res);

    const list = LIST.exec(path);
    const one = ONE.exec(path);
    const version = list?.[1] ?? one?.[1];
    const endpoint = list ? `${method} /trackings` : one ? `${method} /trackings/:id` : undefined;
    const answer = version === undefined || endpoint === undefined ? error(404) : await api(req, url, method, list !== null, one?.[2]);
    const headers: Record<string, string> = { ...rateLimitHeaders(endpoint ?? 'other'), ...answer.headers };
    if (version) headers['as-api-version'] = version;
    recorded.push({ at: new Date().toISOString(), method, url: req.url ?? '/', status: answer.status });
    sendJson(res, answer.status, answer.body, headers);
  }

  async function api(req: IncomingMessage, url: URL, method: string, isList: boolean, id: string | undefined): Promise<Answer> {
    const body = method === 'POST' ? await readBody(req) : '';
    const fault = takeFault();
    if (fault && 'delayMs' in fault) await sleep(fault.delayMs, stopping.signal);
    if (fault && 'status' in fault) {
      if (fault.status !== 429) return error(500, fault.status);
      const reset = Math.ceil(now() / 1000) + (fault.retryAfterSeconds ?? 1);
      return { ...error(429), headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } };
    }
    if (req.headers['as-api-key'] !== options.apiKey) return error(401);
    if (isList && method === 'GET') return listTrackings(url);
    if (isList && method === 'POST') return createTracking(body);
    if (id !== undefined && method === 'GET') {
      const tracking = trackings.get(id);
      return tracking ? { status: 200, body: { meta: { code: 200 }, data: tracking } } : error(4004);
    }
    return error(404);
  }

  function listTrackings(url: URL): Answer {
    const numbers = splitList(url.searchParams.get('tracking_numbers'));
    if (numbers && numbers.length > MAX_LISTED_NUMBERS) return error(4008);
    const slugs = splitList(url.searchParams.get('slug'));
    const wanted = numbers && new Set(numbers.map((n) => n.toUpperCase()));
    const found = [...trackings.values()]
      .filter((t) => (!wanted || wanted.has(t.tracking_number.toUpperCase())) && (!slugs || slugs.includes(t.slug ?? '')))
      .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const limit = Math.min(200, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
    const page = found.slice(0, limit);
    return { status: 200, body: { meta: { code: 200 }, data: { pagination: { total: found.length, next_cursor: null, has_next_page: found.length > page.length }, trackings: page } } };
  }

  function createTracking(text: string): Answer {
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return error(4001);
      input = parsed as Record<string, unknown>;
    } catch {
      return error(4001);
    }
    const number = input['tracking_number'];
    if (typeof number !== 'string' || number === '') return error(4007);
    if (!TRACKING_NUMBER.test(number)) return error(4017);
    if (/^NOCARRIER/i.test(number)) return error(4012);
    const given = typeof input['slug'] === 'string' && input['slug'] !== '' ? (input['slug'] as string) : undefined;
    if (findByNumber(number, given).length > 0) return error(4003);
    const copied = Object.fromEntries(
      ['title', 'order_id', 'order_number', 'order_id_path', 'language', 'origin_country_region', 'destination_country_region', 'custom_fields', 'shipment_tags'].filter((k) => input[k] !== undefined).map((k) => [k, input[k]]),
    );
    const tracking = newTracking(number, given ?? detectSlug(number) ?? 'unrecognized', copied as Partial<AfterShipTracking>);
    return { status: 201, body: { meta: { code: 201 }, data: tracking } };
  }

  function takeFault(): CourierStandInFault | undefined {
    const fault = faults[0];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.shift();
    return fault;
  }

  function rateLimitHeaders(endpoint: string): Record<string, string> {
    const limit = endpoint === 'POST /trackings' ? 20 : endpoint === 'GET /trackings' ? 6 : 5;
    const second = Math.floor(now() / 1000);
    const window = windows.get(endpoint);
    const count = window && window.second === second ? window.count + 1 : 1;
    windows.set(endpoint, { second, count });
    return { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(Math.max(0, limit - count)), 'x-ratelimit-reset': String(second + 1) };
  }

  async function localFaults(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (method === 'GET') return sendJson(res, 200, faults);
    if (method === 'DELETE') {
      faults.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (method !== 'POST') return sendJson(res, 405, { error: 'GET, POST or DELETE' });
    const input = parseObject(await readBody(req));
    const status = input?.['status'];
    const delayMs = input?.['delayMs'];
    if (typeof status === 'number' && [429, 500, 502, 503, 504].includes(status)) injectFault(input as unknown as CourierStandInFault);
    else if (typeof delayMs === 'number' && delayMs >= 0) injectFault(input as unknown as CourierStandInFault);
    else return sendJson(res, 400, { error: 'needs {"status": 429|500|502|503|504} or {"delayMs": number}, and "times"?' });
    return sendJson(res, 201, faults);
  }

  async function localAdvance(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = parseObject(await readBody(req));
    const number = input?.['tracking_number'];
    const tag = input?.['tag'];
    if (typeof number !== 'string' || typeof tag !== 'string' || !(tag in DEFAULT_SUBTAGS)) {
      return sendJson(res, 400, { error: `needs {"tracking_number": string, "tag": ${Object.keys(DEFAULT_SUBTAGS).join('|')}}` });
    }
    if (findByNumber(number).length === 0) return sendJson(res, 404, { error: 'no such parcel' });
    const str = (k: string) => (typeof input?.[k] === 'string' ? (input[k] as string) : undefined);
    const delivery = await advance(number, tag as AfterShipTag, { subtag: str('subtag'), message: str('message'), location: str('location') });
    return sendJson(res, 200, delivery);
  }

  function injectFault(fault: CourierStandInFault): void {
    faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  if (options.seed !== false) seed(setParcel, options.seedAt ?? now());

  const listening = await listen(server, options.port, options.host);

  return {
    url: listening.url,
    port: listening.port,
    async close() {
      stopping.abort();
      await closeServer(server);
    },
    setParcel,
    advance,
    setWebhookUrl(next) {
      webhookUrl = next;
    },
    parcels: () => structuredClone([...trackings.values()]),
    injectFault,
    clearFaults: () => void (faults.length = 0),
    requests: () => structuredClone(recorded),
    requestCount: () => recorded.length,
    webhooks: () => structuredClone(delivered),
  };
}

/** The Hong Kong wall-clock hour at or before `ms`, as ISO 8601 with its +08:00 offset. */
function hongKongHour(ms: number): string {
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 13)}:00:00+08:00`;
}

/** The seeded parcels (see the file's comment). */
function seed(setParcel: (n: string, f: Partial<AfterShipTracking>) => unknown, start: number): void {
  const day = (offsetDays: number) => hongKongDate(start + offsetDays * 86_400_000);
  const today = day(0);
  setParcel('SF1234567890', {
    slug: 'sf-express',
    tag: 'OutForDelivery',
    subtag: 'OutForDelivery_001',
    subtag_message: 'Out for Delivery',
    origin_country_region: 'CHN',
    destination_country_region: 'HKG',
    courier_destination_country_region: 'HKG',
    // A window still ahead whenever the stand-in starts (a fixed 14:00–18:00 would lie in the past each evening).
    courier_estimated_delivery_date: { estimated_delivery_date: null, estimated_delivery_date_min: hongKongHour(start + 3_600_000), estimated_delivery_date_max: hongKongHour(start + 5 * 3_600_000) },
    courier_tracking_link: 'https://htm.sf-express.com/hk/en/dynamic_function/waybill/#search/bill-number/SF1234567890',
    checkpoints: [
      checkpoint('sf-express', `${day(-2)}T16:05:00+08:00`, 'Shenzhen', 'CHN', 'Shipment picked up', 'InTransit', 'InTransit_002', 'Acceptance scan'),
      checkpoint('sf-express', `${day(-1)}T21:40:00+08:00`, 'Kwai Chung', 'HKG', 'Arrived at the sorting centre', 'InTransit', 'InTransit_003', 'Arrival scan'),
      checkpoint('sf-express', `${today}T08:30:00+08:00`, 'Kowloon Bay', 'HKG', 'Out for delivery', 'OutForDelivery', 'OutForDelivery_001', 'Out for Delivery'),
    ],
  });
  setParcel('1Z999AA10123456784', {
    slug: 'ups',
    tag: 'InTransit',
    subtag: 'InTransit_002',
    subtag_message: 'Acceptance scan',
    origin_country_region: 'USA',
    destination_country_region: 'HKG',
    aftership_estimated_delivery_date: { estimated_delivery_date: day(2), confidence_code: null, estimated_delivery_date_min: null, estimated_delivery_date_max: null },
    courier_tracking_link: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
    checkpoints: [checkpoint('ups', `${day(-1)}T09:12:00-07:00`, 'Ontario, CA', 'USA', 'Origin Scan', 'InTransit', 'InTransit_002', 'Acceptance scan')],
  });
  setParcel('RR123456785HK', {
    slug: 'hong-kong-post',
    tag: 'Delivered',
    subtag: 'Delivered_001',
    subtag_message: 'Delivered',
    active: false,
    destination_country_region: 'HKG',
    shipment_delivery_date: `${day(-1)}T11:20:00+08:00`,
    courier_tracking_link: 'https://www.hongkongpost.hk/en/mail_tracking/index.html',
    checkpoints: [checkpoint('hong-kong-post', `${day(-1)}T11:20:00+08:00`, 'Sha Tin', 'HKG', 'Item delivered', 'Delivered', 'Delivered_001', 'Delivered')],
  });
}

function checkpoint(slug: string, time: string, location: string, country: string, message: string, tag: AfterShipTag, subtag: string, subtagMessage: string) {
  return { slug, checkpoint_time: time, created_at: time, location, country_region: country, message, tag, subtag, subtag_message: subtagMessage, source: 'courier' };
}

/** YYYY-MM-DD in Hong Kong. */
function hongKongDate(ms: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: HONG_KONG, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

function detectSlug(number: string): string | undefined {
  if (/^1Z[0-9A-Z]{16}$/i.test(number)) return 'ups';
  if (/^SF\d{10,15}$/i.test(number)) return 'sf-express';
  if (/^[A-Z]{2}\d{9}HK$/i.test(number)) return 'hong-kong-post';
  return undefined;
}

function trackingLink(slug: string, number: string): string | null {
  if (slug === 'ups') return `https://www.ups.com/track?tracknum=${encodeURIComponent(number)}`;
  if (slug === 'sf-express') return `https://htm.sf-express.com/hk/en/dynamic_function/waybill/#search/bill-number/${encodeURIComponent(number)}`;
  return null;
}

function splitList(value: string | null): string[] | undefined {
  if (value === null || value.trim() === '') return undefined;
  return value.split(',').map((v) => v.trim()).filter(Boolean);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

const readBody = (req: IncomingMessage): Promise<string> => readRequestBody(req, MAX_BODY_BYTES);

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
