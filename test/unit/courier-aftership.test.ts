/**
 * The courier port over AfterShip (shared/courier): every tag mapped, the ETA window rules (a
 * courier window as given, one instant ± 2 h, a day midnight to midnight in the destination's
 * zone), the webhook signature, the reply in four languages, and AfterShip's failures — over a
 * scripted fetch, so every status and header is exact and nothing sleeps.
 */
import { describe, expect, it } from 'vitest';
import {
  AfterShipCourier,
  DEFAULT_AFTERSHIP_API_VERSION,
  parcelOfTracking,
  parseAfterShipWebhook,
  parseCourierTime,
  signAfterShipWebhook,
  type AfterShipOptions,
  type AfterShipTracking,
} from '#shared/courier/aftership';
import { createCourier } from '#shared/courier/factory';
import { formatParcelEta, formatParcelReply, parcelStateWords, replyLanguage } from '#shared/courier/format';
import { CourierError, type ParcelState, type ParcelStatus } from '#shared/courier/port';

const tracking = (fields: Partial<AfterShipTracking> = {}): AfterShipTracking => ({ tracking_number: '1Z999AA10123456784', slug: 'ups', tag: 'InTransit', ...fields });

describe('AfterShip tags become parcel states', () => {
  const table: [string, ParcelState][] = [
    ['Pending', 'pending'],
    ['InfoReceived', 'info_received'],
    ['InTransit', 'in_transit'],
    ['OutForDelivery', 'out_for_delivery'],
    ['AttemptFail', 'attempt_fail'],
    ['Delivered', 'delivered'],
    ['AvailableForPickup', 'available_for_pickup'],
    ['Exception', 'exception'],
    ['Expired', 'expired'],
  ];
  it.each(table)('%s → %s', (tag, state) => {
    expect(parcelOfTracking(tracking({ tag })).state).toBe(state);
  });

  it('an unknown tag is read from its subtag, else it is pending (nothing claimed the courier did not say)', () => {
    expect(parcelOfTracking(tracking({ tag: 'Rerouted', subtag: 'InTransit_011' })).state).toBe('in_transit');
    expect(parcelOfTracking(tracking({ tag: 'Rerouted', subtag: 'Rerouted_001' })).state).toBe('pending');
    expect(parcelOfTracking(tracking({ tag: null })).state).toBe('pending');
  });

  it('keeps the carrier, the subtag, its normalised message, the link and the latest checkpoint', () => {
    const parcel = parcelOfTracking(
      tracking({
        tag: 'Exception',
        subtag: 'Exception_004',
        subtag_message: 'Delayed (Customs clearance)',
        updated_at: '2026-12-02T03:00:00Z',
        courier_tracking_link: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
        destination_country_region: 'HKG',
        checkpoints: [
          { checkpoint_time: '2026-12-02T09:00:00', location: 'Chek Lap Kok', country_region: 'HKG', message: 'Held by customs' },
          { checkpoint_time: '2026-12-01T08:00:00-07:00', city: 'Ontario', state: 'CA', country_region: 'USA', message: 'Departed' },
        ],
      }),
    );
    expect(parcel).toMatchObject({
      trackingNumber: '1Z999AA10123456784',
      carrier: 'ups',
      state: 'exception',
      subState: 'Exception_004',
      stateText: 'Delayed (Customs clearance)',
      trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
      updatedAt: Date.UTC(2026, 11, 2, 3),
    });
    // 09:00 in Hong Kong (the checkpoint's country) is 01:00 UTC: later than the US one.
    expect(parcel.lastCheckpoint).toEqual({ at: Date.UTC(2026, 11, 2, 1), location: 'Chek Lap Kok', message: 'Held by customs' });
  });

  it('prefers the branded AfterShip page, never a link that is not http(s), and hides the unrecognized slug', () => {
    expect(parcelOfTracking(tracking({ aftership_tracking_url: 'https://shop.example/track/1', courier_tracking_link: 'https://ups.example' })).trackingUrl).toBe('https://shop.example/track/1');
    expect(parcelOfTracking(tracking({ courier_tracking_link: 'javascript:alert(1)' })).trackingUrl).toBeUndefined();
    expect(parcelOfTracking(tracking({ slug: 'unrecognized' })).carrier).toBeUndefined();
  });
});

describe('the ETA window (AU-2: ± 2 h)', () => {
  const eta = (fields: Partial<AfterShipTracking>, zone?: string) => parcelOfTracking(tracking(fields), zone).eta;

  it('one instant from the courier becomes that instant ± 2 h', () => {
    expect(eta({ courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T16:00:00+08:00' } })).toEqual({ from: Date.UTC(2026, 11, 3, 6), to: Date.UTC(2026, 11, 3, 10), precision: 'time' });
  });

  it('a window from the courier is kept as given', () => {
    expect(
      eta({ courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T16:00:00+08:00', estimated_delivery_date_min: '2026-12-03T14:00:00+08:00', estimated_delivery_date_max: '2026-12-03T18:00:00+08:00' } }),
    ).toEqual({ from: Date.UTC(2026, 11, 3, 6), to: Date.UTC(2026, 11, 3, 10), precision: 'time' });
  });

  it('a time without an offset is in the destination’s zone', () => {
    expect(eta({ destination_country_region: 'HKG', courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T15:30:00' } })).toEqual({
      from: Date.UTC(2026, 11, 3, 5, 30),
      to: Date.UTC(2026, 11, 3, 9, 30),
      precision: 'time',
    });
  });

  it('a date is the whole day in the destination’s zone (Hong Kong midnight is 16:00 UTC the day before)', () => {
    expect(eta({ destination_country_region: 'HKG', aftership_estimated_delivery_date: { estimated_delivery_date: '2026-12-03' } })).toEqual({
      from: Date.UTC(2026, 11, 2, 16),
      to: Date.UTC(2026, 11, 3, 16),
      precision: 'day',
    });
  });

  it('a date is read in summer time where the zone has it (London, 1 July: midnight is 23:00 UTC)', () => {
    expect(eta({ destination_country_region: 'GBR', aftership_estimated_delivery_date: { estimated_delivery_date: '2026-07-01' } })).toEqual({
      from: Date.UTC(2026, 5, 30, 23),
      to: Date.UTC(2026, 6, 1, 23),
      precision: 'day',
    });
  });

  it('a local time next to a daylight-saving change is the instant it names (Berlin 29 March 01:30 is 00:30 UTC)', () => {
    expect(parseCourierTime('2026-03-29T01:30:00', 'Europe/Berlin')).toEqual({ kind: 'instant', at: Date.UTC(2026, 2, 29, 0, 30) });
    expect(parseCourierTime('2026-03-29T03:30:00', 'Europe/Berlin')).toEqual({ kind: 'instant', at: Date.UTC(2026, 2, 29, 1, 30) });
    expect(parseCourierTime('2026-03-08T03:00:00', 'America/New_York')).toEqual({ kind: 'instant', at: Date.UTC(2026, 2, 8, 7) });
    expect(eta({ destination_country_region: 'DEU', courier_estimated_delivery_date: { estimated_delivery_date: '2026-03-29T01:30:00' } })?.from).toBe(Date.UTC(2026, 2, 28, 22, 30));
  });

  it('a destination spanning zones uses the configured zone, else UTC', () => {
    const usa = { destination_country_region: 'USA', aftership_estimated_delivery_date: { estimated_delivery_date: '2026-12-03' } };
    expect(eta(usa)).toEqual({ from: Date.UTC(2026, 11, 3), to: Date.UTC(2026, 11, 4), precision: 'day' });
    expect(eta(usa, 'America/New_York')).toEqual({ from: Date.UTC(2026, 11, 3, 5), to: Date.UTC(2026, 11, 4, 5), precision: 'day' });
  });

  it('a local midnight without an offset means the day; a range of dates spans whole days', () => {
    expect(eta({ destination_country_region: 'HKG', courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T00:00:00' } })?.precision).toBe('day');
    expect(eta({ destination_country_region: 'HKG', custom_estimated_delivery_date: { type: 'range', datetime_min: '2026-12-03', datetime_max: '2026-12-05' } })).toEqual({
      from: Date.UTC(2026, 11, 2, 16),
      to: Date.UTC(2026, 11, 5, 16),
      precision: 'day',
    });
  });

  it('the carrier’s own estimate wins over AfterShip’s current pick, which wins over its AI and the first one', () => {
    const all = {
      courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T12:00:00Z' },
      latest_estimated_delivery: { datetime: '2026-12-04T12:00:00Z' },
      aftership_estimated_delivery_date: { estimated_delivery_date: '2026-12-05' },
      first_estimated_delivery: { datetime: '2026-12-06T12:00:00Z' },
    };
    expect(eta(all)?.from).toBe(Date.UTC(2026, 11, 3, 10));
    expect(eta({ ...all, courier_estimated_delivery_date: null })?.from).toBe(Date.UTC(2026, 11, 4, 10));
    expect(eta({ ...all, courier_estimated_delivery_date: { estimated_delivery_date: null }, latest_estimated_delivery: null })?.from).toBe(Date.UTC(2026, 11, 5));
  });

  it('no estimate, or one that is not a date, gives no ETA', () => {
    expect(eta({})).toBeUndefined();
    expect(eta({ courier_estimated_delivery_date: { estimated_delivery_date: '2026-02-30' } })).toBeUndefined();
    expect(eta({ courier_estimated_delivery_date: { estimated_delivery_date: 'soon' } })).toBeUndefined();
  });
});

describe('the webhook (aftership-hmac-sha256)', () => {
  const SECRET = 'webhook-secret';
  const body = JSON.stringify({
    event: 'tracking_update',
    event_id: '94dadd60-ed26-46d0-aa52-3ced925a50ff',
    is_tracking_first_tag: true,
    msg: tracking({ tag: 'OutForDelivery', subtag: 'OutForDelivery_001', updated_at: '2026-12-03T01:00:00Z' }),
    ts: 1796259600,
  });
  const signed = { 'Aftership-Hmac-Sha256': signAfterShipWebhook(body, SECRET), 'content-type': 'application/json' };

  it('a correctly signed delivery is read: AfterShip’s event id, the state, first of its state', () => {
    expect(parseAfterShipWebhook(body, signed, SECRET)).toEqual({
      eventId: '94dadd60-ed26-46d0-aa52-3ced925a50ff',
      event: 'tracking_update',
      firstOfState: true,
      parcel: expect.objectContaining({ trackingNumber: '1Z999AA10123456784', state: 'out_for_delivery', updatedAt: Date.UTC(2026, 11, 3, 1) }),
    });
    // Headers as fetch gives them, and the raw bytes.
    expect(parseAfterShipWebhook(Buffer.from(body), new Headers(signed), SECRET)).toMatchObject({ eventId: '94dadd60-ed26-46d0-aa52-3ced925a50ff' });
  });

  it('a changed body, another secret, a missing or malformed header, or no secret configured are refused', () => {
    expect(parseAfterShipWebhook(body.replace('OutForDelivery"', 'Delivered"'), signed, SECRET)).toEqual({ error: 'signature does not match' });
    expect(parseAfterShipWebhook(body, signed, 'another-secret')).toEqual({ error: 'signature does not match' });
    expect(parseAfterShipWebhook(body, { 'content-type': 'application/json' }, SECRET)).toEqual({ error: 'missing aftership-hmac-sha256 header' });
    expect(parseAfterShipWebhook(body, { 'aftership-hmac-sha256': 'sha256=abc' }, SECRET)).toEqual({ error: 'malformed aftership-hmac-sha256 header' });
    // A hex digest (the usual mistake) is not AfterShip's base64.
    expect(parseAfterShipWebhook(body, { 'aftership-hmac-sha256': 'a'.repeat(64) }, SECRET)).toEqual({ error: 'malformed aftership-hmac-sha256 header' });
    expect(parseAfterShipWebhook(body, signed, '')).toEqual({ error: 'no webhook secret is configured' });
  });

  it('a signed body that is not a tracking event is refused, naming what is wrong', () => {
    const other = JSON.stringify({ event: 'tracking_update', msg: { tag: 'Delivered' } });
    expect(parseAfterShipWebhook(other, { 'aftership-hmac-sha256': signAfterShipWebhook(other, SECRET) }, SECRET)).toEqual({ error: expect.stringContaining('msg.tracking_number') });
    expect(parseAfterShipWebhook('not json', { 'aftership-hmac-sha256': signAfterShipWebhook('not json', SECRET) }, SECRET)).toEqual({ error: 'body is not JSON' });
  });

  it('without an event id the id is derived from number, state and update time: a redelivery gets the same one', () => {
    const noId = JSON.stringify({ event: 'tracking_update', msg: tracking({ tag: 'Delivered', updated_at: '2026-12-03T01:00:00Z' }), ts: 1 });
    const headers = { 'aftership-hmac-sha256': signAfterShipWebhook(noId, SECRET) };
    const first = parseAfterShipWebhook(noId, headers, SECRET);
    expect(first).toMatchObject({ eventId: `aftership:tracking_update:1Z999AA10123456784:delivered:${Date.UTC(2026, 11, 3, 1)}` });
    expect(parseAfterShipWebhook(noId, headers, SECRET)).toEqual(first);
  });
});

describe('the reply (AU-2) in four languages', () => {
  const parcel: ParcelStatus = {
    trackingNumber: '1Z999',
    carrier: 'ups',
    state: 'out_for_delivery',
    // 14:00–18:00 in Hong Kong on Thursday 3 December 2026.
    eta: { from: Date.UTC(2026, 11, 3, 6), to: Date.UTC(2026, 11, 3, 10), precision: 'time' },
    trackingUrl: 'https://t.example/1Z999',
    updatedAt: 0,
  };
  const HK = 'Asia/Hong_Kong';

  it.each([
    ['en', 'Your parcel 1Z999 is out for delivery. Expected between 14:00 and 18:00 on Thu 3 Dec. Track it: https://t.example/1Z999'],
    ['zh-Hant', '您的包裹 1Z999 正在派送中。預計於12月3日週四 14:00 至 18:00 送達。追蹤包裹：https://t.example/1Z999'],
    ['zh-Hans', '您的包裹 1Z999 正在派送中。预计于12月3日周四 14:00 至 18:00 送达。跟踪包裹：https://t.example/1Z999'],
    ['ru', 'Ваша посылка 1Z999 передана курьеру для доставки. Ожидается чт, 3 декабря, с 14:00 до 18:00. Отследить: https://t.example/1Z999'],
  ])('%s', (language, text) => {
    expect(formatParcelReply(parcel, language, HK)).toBe(text);
  });

  it('a language tag finds its table; an unknown language falls back to English', () => {
    expect(['zh-HK', 'zh_TW', 'zh-Hant-HK', 'yue', 'zh', 'zh-CN', 'zh-Hans', 'ru-RU', 'fr', '', undefined].map(replyLanguage)).toEqual([
      'zh-Hant',
      'zh-Hant',
      'zh-Hant',
      'zh-Hant',
      'zh-Hans',
      'zh-Hans',
      'zh-Hans',
      'ru',
      'en',
      'en',
      'en',
    ]);
    expect(formatParcelReply(parcel, 'fr', HK)).toBe(formatParcelReply(parcel, 'en', HK));
  });

  it('times are shown in the given zone (the same window in London is 06:00–10:00)', () => {
    expect(formatParcelReply(parcel, 'en', 'Europe/London')).toContain('Expected between 06:00 and 10:00 on Thu 3 Dec.');
  });

  it('a day window names the day; several days name the first and the last; a window over midnight names both days', () => {
    const day = { ...parcel, state: 'in_transit' as const, eta: { from: Date.UTC(2026, 11, 2, 16), to: Date.UTC(2026, 11, 3, 16), precision: 'day' as const } };
    expect(formatParcelReply(day, 'en', HK)).toBe('Your parcel 1Z999 is on its way. Expected on Thu 3 Dec. Track it: https://t.example/1Z999');
    expect(formatParcelReply({ ...day, eta: { ...day.eta, to: Date.UTC(2026, 11, 5, 16) } }, 'en', HK)).toContain('Expected between Thu 3 Dec and Sat 5 Dec.');
    expect(formatParcelReply({ ...day, eta: { ...day.eta, to: Date.UTC(2026, 11, 5, 16) } }, 'zh-Hant', HK)).toContain('預計於12月3日週四至12月5日週六送達。');
    const overnight = { ...parcel, eta: { from: Date.UTC(2026, 11, 3, 14), to: Date.UTC(2026, 11, 3, 18), precision: 'time' as const } };
    expect(formatParcelReply(overnight, 'en', HK)).toContain('Expected between 22:00 on Thu 3 Dec and 02:00 on Fri 4 Dec.');
  });

  it('the state words and the ETA sentence are available alone, for an update template’s variables (AU-2b)', () => {
    expect(parcelStateWords('out_for_delivery', 'zh-HK')).toBe('正在派送中');
    expect(parcelStateWords('delivered', 'de')).toBe('has been delivered');
    expect(formatParcelEta(parcel.eta!, 'ru', HK)).toBe('Ожидается чт, 3 декабря, с 14:00 до 18:00.');
    expect(formatParcelEta({ from: 5, to: 5, precision: 'time' }, 'en', HK)).toBeUndefined();
  });

  it('no ETA once delivered, for a window already over, or without one; no link without a URL', () => {
    expect(formatParcelReply({ ...parcel, state: 'delivered' }, 'en', HK)).toBe('Your parcel 1Z999 has been delivered. Track it: https://t.example/1Z999');
    expect(formatParcelReply(parcel, 'en', HK, { now: Date.UTC(2026, 11, 3, 11) })).toBe('Your parcel 1Z999 is out for delivery. Track it: https://t.example/1Z999');
    expect(formatParcelReply({ ...parcel, eta: undefined, trackingUrl: undefined }, 'ru', HK)).toBe('Ваша посылка 1Z999 передана курьеру для доставки.');
  });
});

// ---- the adapter over a scripted fetch ---------------------------------------------------------

interface Call {
  readonly method: string;
  readonly url: URL;
  readonly key: string | undefined;
  readonly body: unknown;
}

/** A fetch that answers from a script, one entry per call (the last one repeats). */
function scripted(...answers: ((call: Call, signal: AbortSignal) => Response | Promise<Response>)[]) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const call: Call = { method: init?.method ?? 'GET', url: new URL(String(input)), key: headers.get('as-api-key') ?? undefined, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    return answer(call, init?.signal ?? new AbortController().signal);
  }) as typeof fetch;
  return { calls, fetch: fetchImpl };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const list = (...trackings: Partial<AfterShipTracking>[]) => json(200, { meta: { code: 200 }, data: { pagination: { total: trackings.length, next_cursor: null, has_next_page: false }, trackings } });
const failure = (status: number, code: number, type: string, message: string) => json(status, { meta: { code, message, type }, data: {} });

function courier(fetchImpl: typeof fetch, options: Partial<AfterShipOptions> = {}) {
  return new AfterShipCourier({ baseUrl: 'https://api.aftership.test/', apiKey: 'key-1', apiVersion: '2026-07', fetch: fetchImpl, backoffBaseMs: 1, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<CourierError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CourierError);
  return error as CourierError;
}

describe('AfterShipCourier.track', () => {
  it('looks the parcel up by number (and carrier) on the date-versioned API with the as-api-key header', async () => {
    const api = scripted(list(tracking({ tag: 'OutForDelivery' })));
    const parcel = await courier(api.fetch).track(' 1Z999AA1 0123456784 ', 'ups');
    expect(parcel?.state).toBe('out_for_delivery');
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]!.method).toBe('GET');
    expect(api.calls[0]!.url.origin + api.calls[0]!.url.pathname).toBe('https://api.aftership.test/tracking/2026-07/trackings');
    expect(Object.fromEntries(api.calls[0]!.url.searchParams)).toEqual({ tracking_numbers: '1Z999AA10123456784', slug: 'ups' });
    expect(api.calls[0]!.key).toBe('key-1');
  });

  it('of several carriers with the number, the most recently updated answers', async () => {
    const api = scripted(list({ tracking_number: 'AB12345678', slug: 'old', tag: 'Expired', updated_at: '2026-01-01T00:00:00Z' }, { tracking_number: 'ab12345678', slug: 'new', tag: 'InTransit', updated_at: '2026-12-01T00:00:00Z' }));
    expect(await courier(api.fetch).track('AB12345678')).toMatchObject({ carrier: 'new', state: 'in_transit' });
  });

  it('a parcel AfterShip does not have is registered (POST) so that webhooks follow, and reads pending', async () => {
    const api = scripted(list(), json(201, { meta: { code: 201 }, data: { id: 'x1', tracking_number: 'SF1234567890', slug: 'sf-express', tag: 'Pending', subtag: 'Pending_001' } }));
    expect(await courier(api.fetch).track('SF1234567890', 'sf-express')).toMatchObject({ trackingNumber: 'SF1234567890', state: 'pending' });
    expect(api.calls.map((c) => c.method)).toEqual(['GET', 'POST']);
    expect(api.calls[1]!.body).toEqual({ tracking_number: 'SF1234567890', slug: 'sf-express' });
  });

  it('a create that races another (4003 Tracking already exists) reads the tracking again', async () => {
    const api = scripted(list(), failure(400, 4003, 'BadRequest', 'Tracking already exists.'), list(tracking({ tag: 'InfoReceived' })));
    expect((await courier(api.fetch).track('1Z999AA10123456784'))?.state).toBe('info_received');
    expect(api.calls.map((c) => c.method)).toEqual(['GET', 'POST', 'GET']);
  });

  it('a number no carrier recognises (4012) or of a refused format is unknown: undefined', async () => {
    const api = scripted(list(), failure(400, 4012, 'BadRequest', 'Unable to import shipment as we don’t recognize the carrier from this tracking number.'));
    expect(await courier(api.fetch).track('ZZ00000000')).toBeUndefined();
    const none = scripted(list());
    expect(await courier(none.fetch).track('no')).toBeUndefined();
    expect(await courier(none.fetch).track('not a number!')).toBeUndefined();
    expect(none.calls).toHaveLength(0);
  });

  it('with createIfMissing false nothing is registered', async () => {
    const api = scripted(list());
    expect(await courier(api.fetch, { createIfMissing: false }).track('SF1234567890')).toBeUndefined();
    expect(api.calls.map((c) => c.method)).toEqual(['GET']);
  });

  it('401 is auth, with no tracking number and none of AfterShip’s text in the message', async () => {
    const api = scripted(failure(401, 401, 'Unauthorized', 'The API key is invalid for 1Z999AA10123456784.'));
    const error = await rejection(courier(api.fetch).track('1Z999AA10123456784'));
    expect(error).toMatchObject({ kind: 'auth', status: 401, code: 401, retryable: true });
    expect(error.message).toBe('AfterShip 401 Unauthorized (code 401): the API key was refused');
    expect(api.calls).toHaveLength(1);
  });

  it('429 is rate_limited, waiting until X-RateLimit-Reset (or Retry-After), and is not retried here', async () => {
    const resetIn3s = String(Math.floor(Date.now() / 1000) + 3);
    const api = scripted(failure(429, 429, 'TooManyRequests', 'You have exceeded the API call rate limit.'), () => new Response('', { status: 429, headers: { 'retry-after': '7', 'x-ratelimit-reset': resetIn3s } }));
    const byReset = scripted(() => new Response(JSON.stringify({ meta: { code: 429, type: 'TooManyRequests' }, data: {} }), { status: 429, headers: { 'x-ratelimit-limit': '6', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': resetIn3s } }));
    const error = await rejection(courier(byReset.fetch).track('1Z999AA10123456784'));
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(1000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(3000);
    expect(byReset.calls).toHaveLength(1);
    // Retry-After, when sent, wins.
    await rejection(courier(api.fetch).track('1Z999AA10123456784'));
    expect((await rejection(courier(api.fetch).track('1Z999AA10123456784'))).retryAfterMs).toBe(7000);
  });

  it('500 is retried, and transient once the tries are spent', async () => {
    const api = scripted(failure(500, 500, 'InternalError', "Something went wrong on AfterShip's end."));
    const error = await rejection(courier(api.fetch, { maxTries: 3 }).track('1Z999AA10123456784'));
    expect(error).toMatchObject({ kind: 'transient', status: 500, retryable: true });
    expect(api.calls).toHaveLength(3);
    const recovers = scripted(failure(503, 500, 'InternalError', 'x'), list(tracking({ tag: 'Delivered' })));
    expect((await courier(recovers.fetch).track('1Z999AA10123456784'))?.state).toBe('delivered');
    expect(recovers.calls).toHaveLength(2);
  });

  it('a refused connection is retried, then transient without the key or number in the message', async () => {
    const api = scripted(() => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) })));
    const error = await rejection(courier(api.fetch).track('1Z999AA10123456784'));
    expect(error.kind).toBe('transient');
    expect(error.message).toBe('AfterShip unreachable: ECONNREFUSED (3 tries)');
    expect(api.calls).toHaveLength(3);
  });

  it('another 4xx is permanent and not retried', async () => {
    const api = scripted(failure(400, 4010, 'BadRequest', 'The value of slug is invalid.'));
    expect(await rejection(courier(api.fetch).track('1Z999AA10123456784', 'no-such-slug'))).toMatchObject({ kind: 'permanent', code: 4010, retryable: false });
    expect(api.calls).toHaveLength(1);
  });

  it('a deadline bounds every try and pause: a silent AfterShip fails transient in time', async () => {
    const hangs = (_call: Call, signal: AbortSignal) => new Promise<Response>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const api = scripted(hangs);
    const started = Date.now();
    const error = await rejection(courier(api.fetch, { backoffBaseMs: 50, timeoutMs: 10_000 }).track('1Z999AA10123456784', undefined, { deadline: started + 150 }));
    const took = Date.now() - started;
    expect(error.kind).toBe('transient');
    expect(took).toBeGreaterThanOrEqual(100);
    expect(took).toBeLessThan(400);
    expect(api.calls.length).toBeLessThanOrEqual(2);
    // No time at all: not even one request.
    const none = scripted(list());
    await rejection(courier(none.fetch).track('1Z999AA10123456784', undefined, { deadline: Date.now() + 10 }));
    expect(none.calls).toHaveLength(0);
  });

  it('reads the key before every request (a rotated secret), and the factory refuses an empty one', async () => {
    let key = 'old';
    const api = scripted(list(tracking()));
    const adapter = createCourier({ kind: 'aftership', baseUrl: 'https://api.aftership.test', apiVersion: DEFAULT_AFTERSHIP_API_VERSION }, async () => key);
    expect(adapter.kind).toBe('aftership');
    const withFetch = courier(api.fetch, { apiKey: async () => key });
    await withFetch.track('1Z999AA10123456784');
    key = 'new';
    await withFetch.track('1Z999AA10123456784');
    expect(api.calls.map((c) => c.key)).toEqual(['old', 'new']);
    key = '';
    expect(await rejection(adapter.track('1Z999AA10123456784'))).toMatchObject({ kind: 'auth' });
  });
});
