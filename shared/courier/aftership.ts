/**
 * The courier port over AfterShip's Tracking API (date-versioned; 2026-07 is current), which
 * follows the parcels of many carriers behind one API and one webhook. What it does:
 *
 * - `track()` looks the parcel up by tracking number — `GET /tracking/<version>/trackings?
 *   tracking_numbers=<n>[&slug=<carrier>]` (the by-slug-and-number route was removed in
 *   2024-10; `GET /trackings/{id}` needs AfterShip's own id) — and, when AfterShip does not have
 *   it, registers it with `POST /tracking/<version>/trackings` `{tracking_number, slug?}`. From
 *   then on AfterShip polls the carrier and posts webhooks for it (AU-2b). Registering costs one
 *   shipment of the account's monthly quota (overage $0.08–0.12 a shipment, per AfterShip's help
 *   centre): only parcels a customer asked about, or that the business ships, should be tracked.
 * - `parseAfterShipWebhook()` checks a webhook's `aftership-hmac-sha256` header (base64
 *   HMAC-SHA256 of the raw body with the webhook secret, compared in constant time) and maps it.
 *
 * Answers are enveloped: `{"meta": {"code", "message"?, "type"?}, "data": …}`. Failures:
 * 401 (meta 401) bad key → `auth`; 429 (per endpoint limits, GET /trackings 6/s, POST 20/s;
 * `X-RateLimit-Reset` is the Unix time the 1-second window resets) → `rate_limited`; 5xx and
 * network failures are retried here a few times within the deadline, then `transient`; any other
 * 4xx → `permanent`. A create answered 4003 "Tracking already exists" (a concurrent create) is
 * read again; 4005/4017 (invalid number) and 4012 (no carrier recognises it) mean the parcel is
 * unknown: `undefined`.
 *
 * Sources (read 2026-12): https://www.aftership.com/docs/tracking/quickstart/api-quick-start
 * (base URL, `as-api-key`), …/tracking/2026-07/changelog, …/tracking/2024-10/migration-guide
 * (legacy routes removed), …/tracking/jh865r66gc6hi-get-trackings (`tracking_numbers`, up to 50,
 * comma separated), …/tracking/quickstart/rate-limit, …/tracking/quickstart/request-errors,
 * …/tracking/2025-01/webhook/webhook-specifications, …/tracking/webhook/webhook-signature, and
 * AfterShip's generated SDK github.com/AfterShip/tracking-sdk-nodejs (src/model/Tracking.ts and
 * the estimated-delivery models) for field names and formats. More in docs/couriers.md.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import '../zod.ts';
import { parseJson, parseRetryAfter } from '../http.ts';
import {
  CourierError,
  type CourierAdapter,
  type CourierCallOptions,
  type CourierWebhookEvent,
  type EtaWindow,
  type ParcelCheckpoint,
  type ParcelState,
  type ParcelStatus,
} from './port.ts';

/** The current Tracking API version (released 2026-07-09; versions come every six months). */
export const DEFAULT_AFTERSHIP_API_VERSION = '2026-07';
export const DEFAULT_AFTERSHIP_BASE_URL = 'https://api.aftership.com';
/** The request header that carries the API key. */
export const AFTERSHIP_API_KEY_HEADER = 'as-api-key';
/** The webhook's signature header: base64 HMAC-SHA256 of the raw body with the webhook secret. */
export const AFTERSHIP_SIGNATURE_HEADER = 'aftership-hmac-sha256';
/** AU-2: a single expected instant is shown as a window of this much either side. */
export const ETA_HALF_WINDOW_MS = 2 * 3600 * 1000;

// ---- AfterShip's shapes (only the fields used; every field may be absent or null) ----------

const text = z.nullish(z.string());

/** `courier_estimated_delivery_date`, `aftership_estimated_delivery_date`. */
const EddDateSchema = z.nullish(
  z.looseObject({ estimated_delivery_date: text, estimated_delivery_date_min: text, estimated_delivery_date_max: text }),
);
/** `custom_estimated_delivery_date`, `first_estimated_delivery`, `latest_estimated_delivery`. */
const EddDatetimeSchema = z.nullish(z.looseObject({ type: text, source: text, datetime: text, datetime_min: text, datetime_max: text }));

const CheckpointSchema = z.looseObject({
  checkpoint_time: text,
  created_at: text,
  location: text,
  city: text,
  state: text,
  country_region: text,
  country_region_name: text,
  message: text,
  tag: text,
  subtag: text,
  subtag_message: text,
});

export const AfterShipTrackingSchema = z.looseObject({
  id: text,
  tracking_number: z.string().check(z.minLength(1)),
  slug: text,
  tag: text,
  subtag: text,
  subtag_message: text,
  active: z.nullish(z.boolean()),
  created_at: text,
  updated_at: text,
  origin_country_region: text,
  destination_country_region: text,
  courier_destination_country_region: text,
  courier_tracking_link: text,
  aftership_tracking_url: text,
  shipment_delivery_date: text,
  courier_estimated_delivery_date: EddDateSchema,
  aftership_estimated_delivery_date: EddDateSchema,
  custom_estimated_delivery_date: EddDatetimeSchema,
  first_estimated_delivery: EddDatetimeSchema,
  latest_estimated_delivery: EddDatetimeSchema,
  checkpoints: z.nullish(z.array(CheckpointSchema)),
});
export type AfterShipTracking = z.infer<typeof AfterShipTrackingSchema>;

const MetaSchema = z.looseObject({ code: z.number(), message: text, type: text });
const EnvelopeSchema = z.looseObject({ meta: MetaSchema, data: z.optional(z.unknown()) });
const TrackingListSchema = z.looseObject({ trackings: z.nullish(z.array(AfterShipTrackingSchema)) });

const WebhookSchema = z.looseObject({
  event: z.string(),
  event_id: text,
  is_tracking_first_tag: z.nullish(z.boolean()),
  msg: AfterShipTrackingSchema,
  ts: z.nullish(z.number()),
});

/** AfterShip's tags (delivery statuses), each with its state of the port. */
export const AFTERSHIP_TAGS: Readonly<Record<string, ParcelState>> = {
  Pending: 'pending',
  InfoReceived: 'info_received',
  InTransit: 'in_transit',
  OutForDelivery: 'out_for_delivery',
  AttemptFail: 'attempt_fail',
  Delivered: 'delivered',
  AvailableForPickup: 'available_for_pickup',
  Exception: 'exception',
  Expired: 'expired',
};

/**
 * The port's state of an AfterShip tag. AfterShip treats its enums as open, so a tag this code
 * does not know is read from its subtag's prefix (`InTransit_011` → in transit) and otherwise
 * counts as `pending`: nothing is claimed that the courier did not say.
 */
export function stateOfTag(tag: string | null | undefined, subtag?: string | null): ParcelState {
  const known = tag ? AFTERSHIP_TAGS[tag] : undefined;
  if (known) return known;
  const prefix = subtag?.split('_')[0];
  return (prefix && AFTERSHIP_TAGS[prefix]) || 'pending';
}

// ---- time: AfterShip's dates and the ETA window ---------------------------------------------

/**
 * Destination countries (ISO 3166 alpha-3, as AfterShip gives them) with one time zone: a date
 * or a time without an offset is read in it. Countries spanning zones (USA, CAN, RUS, AUS, BRA,
 * MEX, IDN…) are left out on purpose: the adapter's configured zone (else UTC) is used for them.
 */
const COUNTRY_TIME_ZONES: Readonly<Record<string, string>> = {
  HKG: 'Asia/Hong_Kong',
  MAC: 'Asia/Macau',
  TWN: 'Asia/Taipei',
  CHN: 'Asia/Shanghai',
  SGP: 'Asia/Singapore',
  MYS: 'Asia/Kuala_Lumpur',
  THA: 'Asia/Bangkok',
  VNM: 'Asia/Ho_Chi_Minh',
  PHL: 'Asia/Manila',
  JPN: 'Asia/Tokyo',
  KOR: 'Asia/Seoul',
  IND: 'Asia/Kolkata',
  ARE: 'Asia/Dubai',
  ISR: 'Asia/Jerusalem',
  GBR: 'Europe/London',
  IRL: 'Europe/Dublin',
  FRA: 'Europe/Paris',
  DEU: 'Europe/Berlin',
  NLD: 'Europe/Amsterdam',
  BEL: 'Europe/Brussels',
  CHE: 'Europe/Zurich',
  AUT: 'Europe/Vienna',
  ITA: 'Europe/Rome',
  POL: 'Europe/Warsaw',
  CZE: 'Europe/Prague',
  SWE: 'Europe/Stockholm',
  BLR: 'Europe/Minsk',
  NZL: 'Pacific/Auckland',
};

export function timeZoneOfCountry(iso3: string | null | undefined): string | undefined {
  return iso3 ? COUNTRY_TIME_ZONES[iso3.toUpperCase()] : undefined;
}

/** A courier's date or time: a whole day (midnight to midnight), or one instant. */
export type CourierTime = { readonly kind: 'day'; readonly start: number; readonly end: number } | { readonly kind: 'instant'; readonly at: number };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Reads AfterShip's three formats: `YYYY-MM-DD` (a day), `YYYY-MM-DDTHH:mm:ss` (a time in the
 * recipient's zone, `timeZone` here) and `YYYY-MM-DDTHH:mm:ssZ`/`±hh:mm` (an instant). A local
 * time of exactly midnight is read as the day: carriers that only know the day send it so.
 */
export function parseCourierTime(value: string | null | undefined, timeZone: string): CourierTime | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const date = DATE.exec(trimmed);
  if (date) return dayOf(Number(date[1]), Number(date[2]), Number(date[3]), timeZone);
  const m = DATE_TIME.exec(trimmed);
  if (m) {
    const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return undefined;
    const offset = m[7];
    if (offset === undefined) {
      if (h === 0 && mi === 0 && s === 0) return dayOf(y, mo, d, timeZone);
      return { kind: 'instant', at: zonedToEpoch(y, mo, d, h, mi, s, timeZone) };
    }
    return { kind: 'instant', at: Date.UTC(y, mo - 1, d, h, mi, s) - offsetMs(offset) };
  }
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? { kind: 'instant', at } : undefined;
}

/**
 * The ETA window of one estimate: earliest–latest when both are given, else the single value —
 * an instant ± 2 h (AU-2), a day midnight to midnight in `timeZone`.
 */
export function etaWindow(estimate: { single?: string | null | undefined; min?: string | null | undefined; max?: string | null | undefined }, timeZone: string): EtaWindow | undefined {
  const min = parseCourierTime(estimate.min, timeZone);
  const max = parseCourierTime(estimate.max, timeZone);
  if (min && max) {
    const from = min.kind === 'day' ? min.start : min.at;
    const to = max.kind === 'day' ? max.end : max.at;
    if (to > from) return { from, to, precision: min.kind === 'day' && max.kind === 'day' ? 'day' : 'time' };
  }
  const one = parseCourierTime(estimate.single, timeZone) ?? min ?? max;
  if (!one) return undefined;
  return one.kind === 'day' ? { from: one.start, to: one.end, precision: 'day' } : { from: one.at - ETA_HALF_WINDOW_MS, to: one.at + ETA_HALF_WINDOW_MS, precision: 'time' };
}

function dayOf(y: number, mo: number, d: number, timeZone: string): CourierTime | undefined {
  if (!validDate(y, mo, d)) return undefined;
  return { kind: 'day', start: zonedToEpoch(y, mo, d, 0, 0, 0, timeZone), end: zonedToEpoch(y, mo, d + 1, 0, 0, 0, timeZone) };
}

function validDate(y: number, mo: number, d: number): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function offsetMs(offset: string): number {
  if (offset.toUpperCase() === 'Z') return 0;
  const digits = offset.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
  return (offset.startsWith('-') ? -1 : 1) * minutes * 60_000;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone`'s wall clock is ahead of UTC at the instant `ms`. */
function zoneOffsetAt(ms: number, timeZone: string): number {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts['year']), Number(parts['month']) - 1, Number(parts['day']), Number(parts['hour']), Number(parts['minute']), Number(parts['second']));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time in `timeZone` names (a time a DST change skips or repeats gets one of its readings). */
export function zonedToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = wall - zoneOffsetAt(wall, timeZone);
  const second = wall - zoneOffsetAt(first, timeZone);
  return second;
}

/** Throws a RangeError naming the zone when it is not an IANA time zone the runtime knows. */
function checkTimeZone(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(`not a known IANA time zone: ${timeZone}`);
  }
  return timeZone;
}

// ---- mapping -----------------------------------------------------------------------------

/**
 * An AfterShip tracking as the port's {@link ParcelStatus}. The ETA comes from the first estimate
 * present, most specific first: the carrier's own (`courier_estimated_delivery_date`), AfterShip's
 * current pick (`latest_estimated_delivery`), the merchant's rule (`custom_estimated_delivery_date`),
 * AfterShip's AI (`aftership_estimated_delivery_date`), the first ever given (`first_estimated_delivery`).
 * Dates without an offset are in the destination's zone when one is known, else `fallbackTimeZone`.
 */
export function parcelOfTracking(tracking: AfterShipTracking, fallbackTimeZone = 'UTC', fallbackUpdatedAt = 0): ParcelStatus {
  const zone = timeZoneOfCountry(tracking.destination_country_region ?? tracking.courier_destination_country_region) ?? fallbackTimeZone;
  const state = stateOfTag(tracking.tag, tracking.subtag);
  const last = lastCheckpoint(tracking.checkpoints ?? [], zone);
  const updated = tracking.updated_at ? Date.parse(tracking.updated_at) : NaN;
  return {
    trackingNumber: tracking.tracking_number,
    carrier: tracking.slug && tracking.slug !== 'unrecognized' ? tracking.slug : undefined,
    state,
    stateText: nonEmpty(tracking.subtag_message) ?? last?.message,
    subState: nonEmpty(tracking.subtag),
    eta: etaOf(tracking, zone),
    trackingUrl: webUrl(tracking.aftership_tracking_url) ?? webUrl(tracking.courier_tracking_link),
    updatedAt: Number.isFinite(updated) ? updated : fallbackUpdatedAt,
    lastCheckpoint: last,
  };
}

function etaOf(t: AfterShipTracking, zone: string): EtaWindow | undefined {
  const fromDate = (e: z.infer<typeof EddDateSchema>) => e && etaWindow({ single: e.estimated_delivery_date, min: e.estimated_delivery_date_min, max: e.estimated_delivery_date_max }, zone);
  const fromDatetime = (e: z.infer<typeof EddDatetimeSchema>) => e && etaWindow({ single: e.datetime, min: e.datetime_min, max: e.datetime_max }, zone);
  return (
    fromDate(t.courier_estimated_delivery_date) ??
    fromDatetime(t.latest_estimated_delivery) ??
    fromDatetime(t.custom_estimated_delivery_date) ??
    fromDate(t.aftership_estimated_delivery_date) ??
    fromDatetime(t.first_estimated_delivery) ??
    undefined
  );
}

/** The latest checkpoint by its time (AfterShip lists them oldest first; the order is not relied on). */
function lastCheckpoint(checkpoints: readonly z.infer<typeof CheckpointSchema>[], destinationZone: string): ParcelCheckpoint | undefined {
  let best: ParcelCheckpoint | undefined;
  for (const c of checkpoints) {
    // A checkpoint's time is in the checkpoint's own zone.
    const zone = timeZoneOfCountry(c.country_region) ?? destinationZone;
    const time = parseCourierTime(c.checkpoint_time, zone) ?? parseCourierTime(c.created_at, 'UTC');
    if (!time) continue;
    const at = time.kind === 'day' ? time.start : time.at;
    if (best && at < best.at) continue;
    const location = nonEmpty(c.location) ?? nonEmpty([c.city, c.state, c.country_region_name].filter((p) => p && p.trim()).join(', '));
    best = { at, location, message: nonEmpty(c.message) ?? nonEmpty(c.subtag_message) };
  }
  return best;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value && value.trim() ? value.trim() : undefined;
}

function webUrl(value: string | null | undefined): string | undefined {
  if (!value || !URL.canParse(value)) return undefined;
  const protocol = new URL(value).protocol;
  return protocol === 'https:' || protocol === 'http:' ? value : undefined;
}

// ---- the adapter ---------------------------------------------------------------------------

export interface AfterShipOptions {
  /** Default https://api.aftership.com (no trailing slash needed). */
  readonly baseUrl?: string;
  /** A fixed key, or read before every request (a rotated secret is picked up without a restart). */
  readonly apiKey: string | (() => Promise<string>);
  /** Default {@link DEFAULT_AFTERSHIP_API_VERSION}. */
  readonly apiVersion?: string;
  /** Per request; default 10 s (cut to what is left before a deadline). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Tries for 5xx, network errors and timeouts; default 3. */
  readonly maxTries?: number;
  /** First pause between tries; doubles each time. Default 100 ms. */
  readonly backoffBaseMs?: number;
  /** Register a parcel AfterShip does not have (so that it sends webhooks). Default true. */
  readonly createIfMissing?: boolean;
  /** Zone of carrier dates without an offset when the destination's is not known. Default UTC. */
  readonly timeZone?: string;
}

/** Tracking numbers AfterShip accepts: 4–100 of A–Z, 0–9, `-`, `.`, `_`, `/`. */
const TRACKING_NUMBER = /^[A-Za-z0-9._/-]{4,100}$/;
/** Create answers that mean "no carrier knows this number". */
const UNKNOWN_PARCEL_CODES = new Set([4005, 4012, 4017]);
const TRACKING_EXISTS = 4003;
/** A request is not started with less time than this left before the deadline. */
const MIN_REQUEST_MS = 50;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly meta?: z.infer<typeof MetaSchema> | undefined;
  readonly data?: unknown;
}

export class AfterShipCourier implements CourierAdapter {
  readonly kind = 'aftership';
  private readonly root: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxTries: number;
  private readonly backoffBaseMs: number;
  private readonly timeZone: string;

  constructor(private readonly options: AfterShipOptions) {
    const base = (options.baseUrl ?? DEFAULT_AFTERSHIP_BASE_URL).replace(/\/+$/, '');
    this.root = `${base}/tracking/${encodeURIComponent(options.apiVersion ?? DEFAULT_AFTERSHIP_API_VERSION)}`;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxTries = Math.max(1, options.maxTries ?? 3);
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.timeZone = checkTimeZone(options.timeZone ?? 'UTC');
  }

  async track(trackingNumber: string, carrier?: string, options: CourierCallOptions = {}): Promise<ParcelStatus | undefined> {
    const number = trackingNumber.replace(/\s+/g, '');
    // AfterShip would refuse it (4005/4017): no request needed to know no courier has it.
    if (!TRACKING_NUMBER.test(number)) return undefined;
    const slug = carrier?.trim() || undefined;
    const deadline = options.deadline;
    const found = await this.find(number, slug, deadline);
    if (found) return this.parcelOf(found);
    if (this.options.createIfMissing === false) return undefined;

    const created = await this.send('POST', '/trackings', undefined, { tracking_number: number, ...(slug && { slug }) }, deadline, (a) =>
      a.status >= 400 && a.status < 500 && a.meta !== undefined && (a.meta.code === TRACKING_EXISTS || UNKNOWN_PARCEL_CODES.has(a.meta.code)),
    );
    if (created.status >= 200 && created.status < 300) {
      const tracking = AfterShipTrackingSchema.safeParse(created.data);
      if (tracking.success) return this.parcelOf(tracking.data);
    } else if (created.meta && UNKNOWN_PARCEL_CODES.has(created.meta.code)) {
      return undefined;
    }
    // Created by someone else meanwhile (4003), or created without the tracking in the answer: read it.
    const again = await this.find(number, slug, deadline);
    if (again) return this.parcelOf(again);
    throw new CourierError('transient', `AfterShip ${created.status}: the tracking was ${created.meta?.code === TRACKING_EXISTS ? 'said to exist' : 'created'} but is not listed yet`, { status: created.status, code: created.meta?.code });
  }

  private parcelOf(tracking: AfterShipTracking): ParcelStatus {
    return parcelOfTracking(tracking, this.timeZone, Date.now());
  }

  /** The tracking with this number (and carrier), the most recently updated when several carriers have one. */
  private async find(number: string, slug: string | undefined, deadline: number | undefined): Promise<AfterShipTracking | undefined> {
    const answer = await this.send('GET', '/trackings', { tracking_numbers: number, slug }, undefined, deadline);
    const list = TrackingListSchema.safeParse(answer.data);
    if (!list.success) throw new CourierError('transient', `AfterShip ${answer.status}: unexpected tracking list (${list.error.issues[0]?.path.join('.') || 'data'})`, { status: answer.status });
    const wanted = number.toUpperCase();
    const matches = (list.data.trackings ?? []).filter((t) => t.tracking_number.replace(/\s+/g, '').toUpperCase() === wanted && (!slug || t.slug === slug));
    return matches.sort((a, b) => (Date.parse(b.updated_at ?? '') || 0) - (Date.parse(a.updated_at ?? '') || 0))[0];
  }

  /**
   * One API call: the key read, a timeout cut to the deadline, 5xx and network failures tried
   * again after a pause that fits before the deadline. A 2xx (or an answer `tolerate` accepts) is
   * returned; anything else becomes a {@link CourierError}.
   */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    query: Readonly<Record<string, string | undefined>> | undefined,
    body: unknown,
    deadline: number | undefined,
    tolerate?: (answer: Answer) => boolean,
  ): Promise<Answer> {
    const url = new URL(this.root + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const left = () => (deadline === undefined ? Infinity : deadline - Date.now());
    let failure = '';
    for (let attempt = 1; ; attempt++) {
      if (left() < MIN_REQUEST_MS) throw new CourierError('transient', `no time left for an AfterShip request${failure ? ` (after ${failure})` : ''}`);
      const outcome = await this.once(method, url.toString(), body, Math.max(1, Math.min(this.timeoutMs, left())));
      if (outcome.kind === 'answer') {
        const answer = outcome.answer;
        if ((answer.status >= 200 && answer.status < 300) || tolerate?.(answer)) return answer;
        const described = describe(answer);
        const details = { status: answer.status, code: answer.meta?.code };
        if (answer.status === 401 || answer.status === 403) throw new CourierError('auth', `${described}: the API key was refused`, details);
        if (answer.status === 429) throw new CourierError('rate_limited', `${described}: rate limited`, { ...details, retryAfterMs: outcome.retryAfterMs });
        if (answer.status < 500) throw new CourierError('permanent', described, details);
        failure = described;
      } else {
        failure = outcome.reason;
      }
      const pause = this.backoffBaseMs * 2 ** (attempt - 1);
      if (attempt >= this.maxTries || pause + MIN_REQUEST_MS > left()) {
        throw new CourierError('transient', `${failure}${attempt > 1 ? ` (${attempt} tries)` : ''}`, outcome.kind === 'answer' ? { status: outcome.answer.status, code: outcome.answer.meta?.code } : {});
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private async once(
    method: 'GET' | 'POST',
    url: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<{ kind: 'answer'; answer: Answer; retryAfterMs: number | undefined } | { kind: 'failed'; reason: string }> {
    let key: string;
    try {
      key = typeof this.options.apiKey === 'string' ? this.options.apiKey : await this.options.apiKey();
    } catch (error) {
      throw new CourierError('auth', `the AfterShip API key could not be read: ${error instanceof Error ? error.name : 'error'}`);
    }
    const headers: Record<string, string> = { [AFTERSHIP_API_KEY_HEADER]: key, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const parsed = parseJson(await response.text());
      const envelope = EnvelopeSchema.safeParse(parsed);
      return {
        kind: 'answer',
        answer: { status: response.status, body: parsed, meta: envelope.success ? envelope.data.meta : undefined, data: envelope.success ? envelope.data.data : undefined },
        retryAfterMs: response.status === 429 ? rateLimitWait(response.headers) : undefined,
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'failed', reason: `no answer from AfterShip within ${timeoutMs} ms` };
      return { kind: 'failed', reason: `AfterShip unreachable: ${errorCode(error) ?? name}` };
    }
  }
}

/** "AfterShip 401 Unauthorized (code 401)": the status and AfterShip's code and type, never its message. */
function describe(answer: Answer): string {
  if (!answer.meta) return `AfterShip ${answer.status}`;
  const type = answer.meta.type && /^[A-Za-z]{1,40}$/.test(answer.meta.type) ? ` ${answer.meta.type}` : '';
  return `AfterShip ${answer.status}${type} (code ${answer.meta.code})`;
}

/**
 * How long a 429 asks to wait: `Retry-After` when sent, else until `X-RateLimit-Reset` (Unix
 * seconds), else the 1-second window AfterShip's limits are counted in.
 */
export function rateLimitWait(headers: Headers, now = Date.now()): number {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) {
    const resetMs = reset > 1e12 ? reset : reset * 1000;
    const wait = Math.ceil(resetMs - now);
    if (wait > 0) return Math.min(wait, 3600_000);
  }
  return 1000;
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

// ---- the webhook ---------------------------------------------------------------------------

export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The `aftership-hmac-sha256` value AfterShip would send for this body (the stand-in and tests sign with it). */
export function signAfterShipWebhook(rawBody: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * A tracking webhook, verified and mapped. The signature is checked over the raw body exactly as
 * received, before anything is parsed, in constant time; a missing secret fails closed. AfterShip
 * signs no timestamp, so there is no replay window: `eventId` makes a replay harmless instead.
 * Events: `tracking_update` (a status change), `edd_revise` (a new ETA), `tracking_pending_time`;
 * all carry the whole tracking in `msg`.
 */
export function parseAfterShipWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: { readonly timeZone?: string } = {},
): CourierWebhookEvent | { error: string } {
  if (!secret) return { error: 'no webhook secret is configured' };
  const signature = headerOf(headers, AFTERSHIP_SIGNATURE_HEADER)?.trim();
  if (!signature) return { error: `missing ${AFTERSHIP_SIGNATURE_HEADER} header` };
  if (!BASE64_SHA256.test(signature)) return { error: `malformed ${AFTERSHIP_SIGNATURE_HEADER} header` };
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'base64'))) return { error: 'signature does not match' };

  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
  } catch {
    return { error: 'body is not JSON' };
  }
  const parsed = WebhookSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `not a tracking webhook: ${issue?.path.join('.') || 'body'} ${issue?.message ?? 'invalid'}` };
  }
  const { event, event_id: id, is_tracking_first_tag: first, msg, ts } = parsed.data;
  const parcel = parcelOfTracking(msg, options.timeZone ?? 'UTC', typeof ts === 'number' ? ts * 1000 : 0);
  return {
    eventId: id?.trim() ? id.trim() : `aftership:${event}:${parcel.trackingNumber}:${parcel.state}:${parcel.updatedAt}`,
    event,
    firstOfState: first ?? undefined,
    parcel,
  };
}

function headerOf(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}
