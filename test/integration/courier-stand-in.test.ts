/**
 * The real AfterShip adapter against the local AfterShip stand-in (local/courier): a seeded parcel
 * read with its courier ETA window, an unknown parcel registered and read as pending, the API key
 * check, injected faults (429, 5xx, a slow answer under a deadline), and the signed webhook that
 * `advance` posts, verified by parseAfterShipWebhook. A node:http receiver plays our webhook.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCourierStandIn, type CourierStandIn } from '#local/courier/server';
import { AfterShipCourier, DEFAULT_AFTERSHIP_API_VERSION, parseAfterShipWebhook } from '#shared/courier/aftership';
import { formatParcelReply } from '#shared/courier/format';
import { CourierError } from '#shared/courier/port';

const API_KEY = 'courier-test-key';
const SECRET = 'courier-test-webhook-secret';
const HK = 'Asia/Hong_Kong';

interface Delivery {
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
}

async function startReceiver() {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/courier-webhook`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let standIn: CourierStandIn;
let adapter: AfterShipCourier;

beforeAll(async () => {
  receiver = await startReceiver();
  // Seeded as at 13:30 today in Hong Kong: the courier's window is 14:00–18:00.
  const { y, m, d } = hongKongToday();
  standIn = await startCourierStandIn({ apiKey: API_KEY, webhookSecret: SECRET, seedAt: Date.UTC(y, m - 1, d, 5, 30) });
  standIn.setWebhookUrl(receiver.url);
  adapter = new AfterShipCourier({ baseUrl: standIn.url, apiKey: async () => API_KEY, apiVersion: DEFAULT_AFTERSHIP_API_VERSION, timeoutMs: 2000, backoffBaseMs: 10 });
});

afterAll(async () => {
  await standIn.close();
  await receiver.close();
});

beforeEach(() => standIn.clearFaults());

/** Today in Hong Kong as UTC midnight-based parts. */
function hongKongToday(): { y: number; m: number; d: number } {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: HK, year: 'numeric', month: '2-digit', day: '2-digit' }).format(Date.now()).split('-').map(Number) as [number, number, number];
  return { y, m, d };
}

describe('tracking through the stand-in', () => {
  it('a seeded parcel out for delivery reads with the courier’s window, today 14:00–18:00 in Hong Kong', async () => {
    const parcel = await adapter.track('SF1234567890');
    const { y, m, d } = hongKongToday();
    expect(parcel).toMatchObject({
      trackingNumber: 'SF1234567890',
      carrier: 'sf-express',
      state: 'out_for_delivery',
      subState: 'OutForDelivery_001',
      eta: { from: Date.UTC(y, m - 1, d, 6), to: Date.UTC(y, m - 1, d, 10), precision: 'time' },
      trackingUrl: expect.stringMatching(/^https:\/\/htm\.sf-express\.com\/.*SF1234567890$/),
      lastCheckpoint: { location: 'Kowloon Bay', message: 'Out for delivery' },
    });
    expect(formatParcelReply(parcel!, 'en', HK)).toMatch(/^Your parcel SF1234567890 is out for delivery\. Expected between 14:00 and 18:00 on \w{3} \d{1,2} \w{3}\. Track it: https:/);
  });

  it('a seeded parcel in transit has AfterShip’s estimated day, as a day window', async () => {
    const parcel = await adapter.track('1Z999AA10123456784', 'ups');
    expect(parcel?.state).toBe('in_transit');
    expect(parcel?.eta?.precision).toBe('day');
    expect(parcel!.eta!.to - parcel!.eta!.from).toBe(24 * 3600_000);
    expect(formatParcelReply(parcel!, 'zh-Hant', HK)).toMatch(/^您的包裹 1Z999AA10123456784 正在運送途中。預計於\d{1,2}月\d{1,2}日週.送達。追蹤包裹：https:\/\/www\.ups\.com\//);
  });

  it('an unknown parcel is registered (POST) and reads pending; the next look-up finds it without creating again', async () => {
    const before = standIn.requestCount();
    expect(await adapter.track('LOCAL0000000001')).toMatchObject({ trackingNumber: 'LOCAL0000000001', state: 'pending', subState: 'Pending_001' });
    expect(standIn.requests().slice(before).map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'POST 201']);
    expect(standIn.parcels().filter((p) => p.tracking_number === 'LOCAL0000000001')).toHaveLength(1);
    const after = standIn.requestCount();
    expect((await adapter.track('LOCAL0000000001'))?.state).toBe('pending');
    expect(standIn.requests().slice(after).map((r) => r.method)).toEqual(['GET']);
  });

  it('a number no carrier recognises (4012) is undefined, and nothing is kept', async () => {
    expect(await adapter.track('NOCARRIER0001')).toBeUndefined();
    expect(standIn.parcels().some((p) => p.tracking_number === 'NOCARRIER0001')).toBe(false);
  });

  it('a wrong key is answered 401 in AfterShip’s shape and becomes an auth error', async () => {
    const answer = await fetch(`${standIn.url}/tracking/${DEFAULT_AFTERSHIP_API_VERSION}/trackings?tracking_numbers=SF1234567890`, { headers: { 'as-api-key': 'wrong' } });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toEqual({ meta: { code: 401, message: 'The API key is invalid.', type: 'Unauthorized' }, data: {} });
    const wrong = new AfterShipCourier({ baseUrl: standIn.url, apiKey: 'wrong', apiVersion: DEFAULT_AFTERSHIP_API_VERSION });
    await expect(wrong.track('SF1234567890')).rejects.toMatchObject({ kind: 'auth', status: 401 });
  });
});

describe('faults', () => {
  it('429 becomes rate_limited with the wait X-RateLimit-Reset names', async () => {
    standIn.injectFault({ status: 429, retryAfterSeconds: 2 });
    const error = await adapter.track('SF1234567890').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CourierError);
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429 });
    expect((error as CourierError).retryAfterMs).toBeGreaterThan(1000);
    expect((error as CourierError).retryAfterMs).toBeLessThanOrEqual(3000);
  });

  it('one 500 is retried and the read succeeds; 503 on every try is transient', async () => {
    standIn.injectFault({ status: 500 });
    const before = standIn.requestCount();
    expect((await adapter.track('SF1234567890'))?.state).toBe('out_for_delivery');
    expect(standIn.requests().slice(before).map((r) => r.status)).toEqual([500, 200]);
    standIn.injectFault({ status: 503, times: 3 });
    await expect(adapter.track('SF1234567890')).rejects.toMatchObject({ kind: 'transient', status: 503 });
  });

  it('a slow answer is given up at the deadline', async () => {
    standIn.injectFault({ delayMs: 1500, times: 5 });
    const started = Date.now();
    await expect(adapter.track('SF1234567890', undefined, { deadline: started + 150 })).rejects.toMatchObject({ kind: 'transient' });
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('webhooks (AU-2b)', () => {
  it('advance posts a signed tracking_update that parseAfterShipWebhook verifies and maps', async () => {
    standIn.setParcel('SF5550001111', { slug: 'sf-express', tag: 'InTransit', destination_country_region: 'HKG' });
    const delivery = await standIn.advance('SF5550001111', 'OutForDelivery', { location: 'Kowloon Bay', message: 'On the van' });
    expect(delivery.status).toBe(200);
    const got = receiver.deliveries.at(-1)!;
    expect(got.raw.toString('utf8')).toBe(delivery.rawBody);
    expect(got.headers['as-webhook-version']).toBe(DEFAULT_AFTERSHIP_API_VERSION);

    const event = parseAfterShipWebhook(got.raw, got.headers, SECRET);
    expect(event).toMatchObject({
      eventId: delivery.eventId,
      event: 'tracking_update',
      firstOfState: true,
      parcel: { trackingNumber: 'SF5550001111', carrier: 'sf-express', state: 'out_for_delivery', lastCheckpoint: { location: 'Kowloon Bay', message: 'On the van' } },
    });
    expect(parseAfterShipWebhook(got.raw, got.headers, 'not-the-secret')).toEqual({ error: 'signature does not match' });

    // A second update under the same state is not the first of it; the API now reads the new state.
    await standIn.advance('SF5550001111', 'OutForDelivery');
    expect(parseAfterShipWebhook(receiver.deliveries.at(-1)!.raw, receiver.deliveries.at(-1)!.headers, SECRET)).toMatchObject({ firstOfState: false });
    await standIn.advance('SF5550001111', 'Delivered');
    expect((await adapter.track('SF5550001111'))?.state).toBe('delivered');
  });

  it('a single courier instant set on a parcel reads as a window of ± 2 h', async () => {
    standIn.setParcel('SF5550002222', { slug: 'sf-express', tag: 'OutForDelivery', courier_estimated_delivery_date: { estimated_delivery_date: '2026-12-03T16:00:00+08:00' } });
    expect((await adapter.track('SF5550002222'))?.eta).toEqual({ from: Date.UTC(2026, 11, 3, 6), to: Date.UTC(2026, 11, 3, 10), precision: 'time' });
  });
});
