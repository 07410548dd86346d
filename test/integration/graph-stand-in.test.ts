/**
 * The local Graph API stand-in (local/graph): Meta's answers to sends by phone and by BSUID, the
 * signed status webhooks that follow, faults per code, the throughput limit, templates paging
 * and the access token check. A node:http receiver plays the system's webhook.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphStandIn, type GraphStandIn } from '#local/graph/server';
import { DEFAULT_TEMPLATES } from '#local/graph/templates';
import { WebhookPayloadSchema, WebhookStatusSchema } from '#shared/whatsapp/schema';
import { isValidSignature } from '#shared/whatsapp/signature';

const APP_SECRET = 'graph-test-secret';
const TOKEN = 'graph-test-token';
const NUMBER = '106540352242922';
const WABA = '102290129340398';
const V = 'v25.0';
/** Answers and payloads are read field by field, as JSON. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KNOWN_USER = { bsuid: 'HK.9876543210abcdef', phone: '+85262223333', name: 'Mei', username: '@mei' };

interface Delivery {
  readonly raw: Buffer;
  readonly signature: string | undefined;
  readonly body: Record<string, unknown>;
  readonly answered: number;
}

/** The system's webhook, played by a plain server: records every POST, can refuse the next few. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  let refuseNext = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const answered = refuseNext > 0 ? 500 : 200;
      if (refuseNext > 0) refuseNext--;
      deliveries.push({ raw, signature: req.headers['x-hub-signature-256'] as string | undefined, body: JSON.parse(raw.toString('utf8')), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    deliveries,
    refuse: (n: number) => void (refuseNext = n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

let receiver: Receiver;
let graph: GraphStandIn;

beforeAll(async () => {
  receiver = await startReceiver();
  graph = await startGraphStandIn({
    appSecret: APP_SECRET,
    webhookUrl: receiver.url,
    accessToken: TOKEN,
    statusDelaysMs: { sent: 5, delivered: 10, read: 15 },
    webhookRetryDelaysMs: [10, 20],
    users: [KNOWN_USER],
  });
});
afterAll(async () => {
  await graph.close();
  await receiver.close();
});
beforeEach(() => graph.clearFaults());

async function call(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}, on = graph) {
  const token = init.token === undefined ? TOKEN : init.token;
  const response = await fetch(`${on.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(token && { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const sendMessage = (body: Record<string, unknown>, options: { token?: string | null; number?: string; on?: GraphStandIn } = {}) =>
  call(`/${V}/${options.number ?? NUMBER}/messages`, { body: { messaging_product: 'whatsapp', ...body }, token: options.token }, options.on);

const text = (to: Record<string, string>, body = 'Hello from the shop', extra: Record<string, unknown> = {}) => ({
  ...to,
  type: 'text',
  text: { body },
  ...extra,
});

let phoneCounter = 0;
/** A fresh Hong Kong mobile number per test, so faults and statuses never cross tests. */
const freshPhone = () => `+8529${String(1_000_000 + ++phoneCounter).slice(-7)}`;
let bsuidCounter = 0;
const freshBsuid = () => `HK.${(1_000_000_000 + ++bsuidCounter).toString(36)}test`;

/** The statuses posted for one wamid, in arrival order, with their change value. */
function statusesOf(wamid: string) {
  return receiver.deliveries.flatMap((d) => {
    const value = (d.body as Json).entry[0].changes[0].value as Json;
    return (value.statuses as Json[]).filter((s) => s.id === wamid).map((status) => ({ status, value, delivery: d }));
  });
}

describe('sends by phone (to)', () => {
  it('answers Meta success shape and posts signed sent → delivered → read with the callback data and pricing', async () => {
    const phone = freshPhone();
    const answer = await sendMessage(text({ to: phone }, 'Your order is ready', { biz_opaque_callback_data: 'out-1' }));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: phone, wa_id: phone.slice(1) }],
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
    });
    const wamid = answer.body.messages[0].id as string;

    await graph.idle();
    const posted = statusesOf(wamid);
    expect(posted.map((p) => p.status.status)).toEqual(['sent', 'delivered', 'read']);
    for (const { status, value, delivery } of posted) {
      expect(isValidSignature(delivery.raw, delivery.signature, APP_SECRET)).toBe(true);
      expect(WebhookPayloadSchema.safeParse(delivery.body).success).toBe(true);
      expect(WebhookStatusSchema.safeParse(status).success).toBe(true);
      expect(delivery.body).toMatchObject({ object: 'whatsapp_business_account', entry: [{ id: WABA, changes: [{ field: 'messages' }] }] });
      expect(value.metadata).toEqual({ display_phone_number: '85230012345', phone_number_id: NUMBER });
      expect(value.contacts).toEqual([{ wa_id: phone.slice(1), user_id: expect.stringMatching(/^HK\.\d{20}$/) }]);
      expect(status).toMatchObject({ id: wamid, recipient_id: phone.slice(1), biz_opaque_callback_data: 'out-1' });
      expect(status.timestamp).toMatch(/^\d{10}$/);
      expect(status).not.toHaveProperty('recipient_user_id');
      expect(status).not.toHaveProperty('conversation');
    }
    const pricing = { billable: false, pricing_model: 'PMP', category: 'service', type: 'free_customer_service' };
    expect(posted[0]?.status.pricing).toEqual(pricing);
    expect(posted[1]?.status.pricing).toEqual(pricing);
    expect(posted[2]?.status).not.toHaveProperty('pricing');

    const record = graph.sends().find((s) => s.wamid === wamid);
    expect(record).toMatchObject({ outcome: 'accepted', dropped: false, to: phone, type: 'text', summary: 'Your order is ready', callbackData: 'out-1' });
    expect(record?.statuses.map((s) => [s.status, s.delivered])).toEqual([['sent', true], ['delivered', true], ['read', true]]);
  });

  it('prices a template by its category as regular (billable)', async () => {
    const answer = await sendMessage({
      to: freshPhone(),
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'zh_HK' },
        components: [{ type: 'body', parameters: ['陳先生', 'A-1001', '已出貨'].map((t) => ({ type: 'text', text: t })) }],
      },
    });
    expect(answer.status).toBe(200);
    await graph.idle();
    const [sent] = statusesOf(answer.body.messages[0].id);
    expect(sent?.status.pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' });
  });

  it('takes a pricing type per recipient (free entry point: a conversation object, on sent with its expiry)', async () => {
    const phone = freshPhone();
    graph.setPricingType(phone, 'free_entry_point');
    const answer = await sendMessage(text({ to: phone }));
    await graph.idle();
    const [sent, delivered] = statusesOf(answer.body.messages[0].id);
    expect(sent?.status.pricing.type).toBe('free_entry_point');
    expect(sent?.status.conversation).toEqual({ id: expect.any(String), expiration_timestamp: expect.stringMatching(/^\d+$/), origin: { type: 'referral_conversion' } });
    expect(delivered?.status.conversation).not.toHaveProperty('expiration_timestamp');
    graph.setPricingType(phone, undefined);
  });

  it('with to and recipient, to wins and the answer carries both ids', async () => {
    const phone = freshPhone();
    const bsuid = freshBsuid();
    const answer = await sendMessage(text({ to: phone, recipient: bsuid }));
    expect(answer.body.contacts).toEqual([{ input: phone, wa_id: phone.slice(1), user_id: bsuid }]);
    await graph.idle();
    const [sent] = statusesOf(answer.body.messages[0].id);
    expect(sent?.value.contacts).toEqual([{ wa_id: phone.slice(1), user_id: bsuid }]);
    expect(sent?.status.recipient_id).toBe(phone.slice(1));
  });
});

describe('sends by BSUID (recipient)', () => {
  it('answers with user_id and no wa_id; statuses carry recipient_user_id and no phone', async () => {
    const bsuid = freshBsuid();
    const answer = await sendMessage({
      recipient_type: 'individual',
      recipient: bsuid,
      type: 'template',
      biz_opaque_callback_data: 'out-2',
      template: {
        name: 'spring_sale',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', parameter_name: 'first_name', text: 'Ana' },
              { type: 'text', parameter_name: 'discount', text: '20%' },
              { type: 'text', parameter_name: 'end_date', text: 'Sunday' },
            ],
          },
        ],
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.contacts).toEqual([{ input: bsuid, user_id: bsuid }]);
    await graph.idle();
    const posted = statusesOf(answer.body.messages[0].id);
    expect(posted.map((p) => p.status.status)).toEqual(['sent', 'delivered', 'read']);
    for (const { status, value, delivery } of posted) {
      expect(isValidSignature(delivery.raw, delivery.signature, APP_SECRET)).toBe(true);
      expect(status).toMatchObject({ recipient_user_id: bsuid, biz_opaque_callback_data: 'out-2' });
      expect(status).not.toHaveProperty('recipient_id');
      expect(value.contacts).toEqual([{ user_id: bsuid }]);
    }
    expect(posted[0]?.status.pricing).toEqual({ billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' });
    expect(graph.sends().find((s) => s.recipient === bsuid)?.summary).toBe('spring_sale (en): first_name=Ana, discount=20%, end_date=Sunday');
  });

  it('shows the phone and profile of a user it knows (the contact book); no username on sent', async () => {
    const answer = await sendMessage(text({ recipient: KNOWN_USER.bsuid }));
    await graph.idle();
    const [sent, delivered] = statusesOf(answer.body.messages[0].id);
    expect(sent?.status).toMatchObject({ recipient_id: '85262223333', recipient_user_id: KNOWN_USER.bsuid });
    expect(sent?.value.contacts).toEqual([{ profile: { name: 'Mei' }, wa_id: '85262223333', user_id: KNOWN_USER.bsuid }]);
    expect(delivered?.value.contacts[0].profile).toEqual({ name: 'Mei', username: '@mei' });
  });

  it('refuses an authentication template to a BSUID with 131062, and sends it to a phone', async () => {
    const otp = { type: 'template', template: { name: 'otp_code', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: '123456' }] }] } };
    const refused = await sendMessage({ recipient: freshBsuid(), ...otp });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 131062, type: 'OAuthException', error_data: { messaging_product: 'whatsapp' } });
    expect((await sendMessage({ to: freshPhone(), ...otp })).status).toBe(200);
  });

  it('answers 200 for a BSUID put in to, but drops the message: no status webhook, ever', async () => {
    const bsuid = freshBsuid();
    const answer = await sendMessage(text({ to: bsuid }));
    expect(answer.status).toBe(200);
    expect(answer.body.messages[0].id).toMatch(/^wamid\./);
    await graph.idle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(statusesOf(answer.body.messages[0].id)).toEqual([]);
    expect(graph.sends().find((s) => s.to === bsuid)).toMatchObject({ dropped: true, outcome: 'dropped', statuses: [] });
  });
});

describe('faults', () => {
  const expected: [code: number, http: number][] = [
    [131047, 400],
    [131026, 400],
    [131049, 400],
    [131050, 400],
    [131048, 400],
    [130429, 400],
    [131056, 400],
    [132001, 404],
    [131042, 400],
    [131000, 500],
    [190, 401],
  ];
  it.each(expected)('%i is answered with HTTP %i in Meta error shape, once, then the next send goes through', async (code, http) => {
    const phone = freshPhone();
    graph.setFault(phone, { code });
    const failed = await sendMessage(text({ to: phone }));
    expect(failed.status).toBe(http);
    expect(failed.body.error).toMatchObject({ code, type: 'OAuthException', fbtrace_id: expect.any(String) });
    expect(failed.body.error.message).toMatch(code === 190 ? /access token/ : new RegExp(`^\\(#${code}\\) `));
    if (code === 190) expect(failed.body.error).not.toHaveProperty('error_data');
    else expect(failed.body.error.error_data).toEqual({ messaging_product: 'whatsapp', details: expect.any(String) });
    expect(graph.sends().at(-1)).toMatchObject({ outcome: 'rejected', error: { code }, httpStatus: http });

    expect((await sendMessage(text({ to: phone }))).status).toBe(200);
  });

  it('keys faults by BSUID too, and honours times and an HTTP status override', async () => {
    const bsuid = freshBsuid();
    graph.setFault(bsuid, { code: 130429, httpStatus: 429, times: 2 });
    expect((await sendMessage(text({ recipient: bsuid }))).status).toBe(429);
    expect((await sendMessage(text({ recipient: bsuid }))).status).toBe(429);
    expect((await sendMessage(text({ recipient: bsuid }))).status).toBe(200);
  });

  it('reports an async fault as a failed status after a 200: errors, no contacts, no pricing, nothing else', async () => {
    const phone = freshPhone();
    graph.setFault(phone, { code: 131049, async: true });
    const answer = await sendMessage(text({ to: phone }, 'Big sale!', { biz_opaque_callback_data: 'out-3' }));
    expect(answer.status).toBe(200);
    await graph.idle();
    const posted = statusesOf(answer.body.messages[0].id);
    expect(posted).toHaveLength(1);
    const [failed] = posted;
    expect(failed?.status).toEqual({
      id: answer.body.messages[0].id,
      status: 'failed',
      timestamp: expect.stringMatching(/^\d+$/),
      recipient_id: phone.slice(1),
      biz_opaque_callback_data: 'out-3',
      errors: [
        {
          code: 131049,
          title: 'This message was not delivered to maintain healthy ecosystem engagement.',
          message: 'This message was not delivered to maintain healthy ecosystem engagement.',
          error_data: { details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.' },
          href: '/documentation/business-messaging/whatsapp/support/error-codes',
        },
      ],
    });
    expect(failed?.value).not.toHaveProperty('contacts');
    expect(WebhookStatusSchema.safeParse(failed?.status).success).toBe(true);
    expect(graph.sends().at(-1)?.outcome).toBe('failed');
  });

  it('arms and disarms faults over HTTP (/local/faults)', async () => {
    const phone = freshPhone();
    const armed = await fetch(`${graph.url}/local/faults`, { method: 'POST', body: JSON.stringify({ recipient: phone, code: 131047, times: 3 }) });
    expect(armed.status).toBe(201);
    expect((await sendMessage(text({ to: phone }))).body.error.code).toBe(131047);
    expect((await fetch(`${graph.url}/local/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await sendMessage(text({ to: phone }))).status).toBe(200);
  });
});

describe('request checks', () => {
  it('needs messaging_product, an address, and valid content', async () => {
    const missingProduct = await call(`/${V}/${NUMBER}/messages`, { body: text({ to: freshPhone() }) });
    expect([missingProduct.status, missingProduct.body.error.code]).toEqual([400, 100]);
    const noAddress = await sendMessage({ type: 'text', text: { body: 'hi' } });
    expect([noAddress.status, noAddress.body.error.code]).toEqual([400, 100]);
    const badBsuid = await sendMessage(text({ recipient: 'not-a-bsuid' }));
    expect(badBsuid.body.error.code).toBe(131009);
    const fourButtons = await sendMessage({
      to: freshPhone(),
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Pick one' },
        action: { buttons: [1, 2, 3, 4].map((n) => ({ type: 'reply', reply: { id: `b${n}`, title: `Option ${n}` } })) },
      },
    });
    expect(fourButtons.body.error.code).toBe(131009);
    const image = await sendMessage({ to: freshPhone(), type: 'image', image: { link: 'https://example.com/a.jpg', caption: 'New in' } });
    expect(image.status).toBe(200);
  });

  it('checks templates: unknown → 132001 (404), paused → 132015, wrong parameter count → 132000, named without names → 132012', async () => {
    const template = (name: string, parameters: unknown[] = [], code = 'en') => ({
      to: freshPhone(),
      type: 'template',
      template: { name, language: { code }, components: [{ type: 'body', parameters }] },
    });
    const unknown = await sendMessage(template('order_update', [], 'fr'));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 132001]);
    expect((await sendMessage(template('paused_promo', [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]))).body.error.code).toBe(132015);
    expect((await sendMessage(template('winter_teaser'))).body.error.code).toBe(132001);
    expect((await sendMessage(template('order_update', [{ type: 'text', text: 'only one' }]))).body.error.code).toBe(132000);
    const unnamed = ['a', 'b', 'c'].map((t) => ({ type: 'text', text: t }));
    expect((await sendMessage(template('spring_sale', unnamed))).body.error.code).toBe(132012);
  });

  it('answers an unknown phone number id with Graph code 100, subcode 33', async () => {
    const answer = await sendMessage(text({ to: freshPhone() }), { number: '999' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
  });
});

describe('throughput', () => {
  it('answers 130429 past messagesPerSecond sends in a second, per business number', async () => {
    const limited = await startGraphStandIn({
      appSecret: APP_SECRET,
      messagesPerSecond: 5,
      accounts: { '111': { wabaId: 'w1', displayPhone: '85230000001' }, '222': { wabaId: 'w1', displayPhone: '85230000002' } },
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => sendMessage(text({ to: freshPhone() }), { number: '111', on: limited, token: 'any' })),
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
      const refused = answers.filter((a) => a.status !== 200);
      expect(refused.map((a) => [a.status, a.body.error.code])).toEqual([[400, 130429]]);
      expect(refused[0]?.body.error.error_data.details).toBe('Cloud API message throughput has been reached.');

      expect((await sendMessage(text({ to: freshPhone() }), { number: '222', on: limited, token: 'any' })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1050));
      expect((await sendMessage(text({ to: freshPhone() }), { number: '111', on: limited, token: 'any' })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('throughput, sustained', () => {
  it('answers 130429 to a sender that keeps above the rate, not to one evenly at it', async () => {
    const limited = await startGraphStandIn({ appSecret: APP_SECRET, messagesPerSecond: 10, accounts: { '111': { wabaId: 'w1', displayPhone: '85230000001' } } });
    try {
      const paced = async (perSecond: number, count: number) => {
        const statuses: number[] = [];
        for (let i = 0; i < count; i++) {
          statuses.push((await sendMessage(text({ to: freshPhone() }), { number: '111', on: limited, token: 'any' })).status);
          await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
        }
        return statuses.filter((s) => s !== 200).length;
      };
      expect(await paced(8, 16)).toBe(0);
      expect(await paced(25, 40)).toBeGreaterThan(5);
    } finally {
      await limited.close();
    }
  });
});

describe('templates list', () => {
  it('pages with limit and after cursors until there is no next, in Meta shape', async () => {
    const first = await call(`/${V}/${WABA}/message_templates?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.paging).toEqual({ cursors: { before: expect.any(String), after: expect.any(String) }, next: expect.stringContaining('after=') });
    expect(first.body.paging).not.toHaveProperty('previous');

    const all = [...first.body.data];
    let next: string | undefined = first.body.paging.next;
    let pages = 1;
    while (next) {
      const page = await call(next.slice(graph.url.length));
      expect(page.body.paging.previous).toEqual(expect.stringContaining('before='));
      all.push(...page.body.data);
      next = page.body.paging.next;
      pages++;
    }
    const seeded = DEFAULT_TEMPLATES.filter((t) => !t.wabaId || t.wabaId === WABA);
    expect(pages).toBe(Math.ceil(seeded.length / 2));
    expect(all.map((t) => `${t.name}/${t.language}/${t.status}`)).toEqual(seeded.map((t) => `${t.name}/${t.language}/${t.status ?? 'APPROVED'}`));
    expect(all.slice(0, 6).map((t) => `${t.name}/${t.language}/${t.status}`)).toEqual([
      'order_update/en/APPROVED',
      'order_update/zh_HK/APPROVED',
      'spring_sale/en/APPROVED',
      'otp_code/en/APPROVED',
      'paused_promo/en/PAUSED',
      'winter_teaser/en/REJECTED',
    ]);
    const spring = all.find((t) => t.name === 'spring_sale');
    expect(spring).toMatchObject({
      category: 'MARKETING',
      parameter_format: 'NAMED',
      id: expect.stringMatching(/^\d+$/),
      components: [
        { type: 'BODY', text: expect.stringContaining('{{first_name}}'), example: { body_text_named_params: expect.any(Array) } },
        { type: 'FOOTER' },
        { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Shop now' }, { type: 'QUICK_REPLY', text: 'Stop promotions' }] },
      ],
    });
    expect(all.find((t) => t.name === 'order_update')).toMatchObject({ parameter_format: 'POSITIONAL', category: 'UTILITY' });
  });

  it('filters by status and fields; a seeded set replaces the defaults; an unknown WABA is Graph code 100', async () => {
    const paused = await call(`/${V}/${WABA}/message_templates?status=PAUSED&fields=name,status`);
    expect(paused.body.data).toEqual([{ name: 'paused_promo', status: 'PAUSED', id: expect.any(String) }]);

    const seeded = await startGraphStandIn({ appSecret: APP_SECRET, templates: [{ name: 'only_one', language: 'en_US', category: 'UTILITY', body: 'Hi {{1}}' }] });
    try {
      const page = await call(`/${V}/${WABA}/message_templates`, { token: 'x' }, seeded);
      expect(page.body.data.map((t: { name: string }) => t.name)).toEqual(['only_one']);
      expect(page.body.paging).not.toHaveProperty('next');
    } finally {
      await seeded.close();
    }
    const unknown = await call(`/${V}/424242/message_templates`);
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 100]);
  });
});

describe('access token', () => {
  it.each([
    ['missing', null],
    ['wrong', 'not-the-token'],
  ])('a %s token is 401 with code 190 on every Graph route', async (_what, token) => {
    for (const answer of [
      await sendMessage(text({ to: freshPhone() }), { token }),
      await call(`/${V}/${WABA}/message_templates`, { token }),
      await call(`/${V}/${NUMBER}`, { token }),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.body.error).toMatchObject({ code: 190, type: 'OAuthException' });
    }
  });
});

describe('number health and inspection', () => {
  it('GET /<PHONE_NUMBER_ID> answers quality and name, after the delay set', async () => {
    const fast = await call(`/${V}/${NUMBER}`);
    expect(fast.body).toEqual({ verified_name: 'Local Business', display_phone_number: '+852 3001 2345', quality_rating: 'GREEN', id: NUMBER });
    graph.setHealthDelay(NUMBER, 150);
    const started = Date.now();
    expect((await call(`/${V}/${NUMBER}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    graph.setHealthDelay(NUMBER, 0);
  });

  it('retries a status webhook the system refuses', async () => {
    receiver.refuse(2);
    const answer = await sendMessage(text({ to: freshPhone() }));
    await graph.idle();
    const wamid = answer.body.messages[0].id;
    expect(statusesOf(wamid).map((p) => [p.status.status, p.delivery.answered])).toEqual([
      ['sent', 500],
      ['sent', 500],
      ['sent', 200],
      ['delivered', 200],
      ['read', 200],
    ]);
    expect(graph.sends().find((s) => s.wamid === wamid)?.statuses[0]).toMatchObject({ status: 'sent', attempts: 3, delivered: true });
  });

  it('lists the sends as HTML and JSON', async () => {
    const phone = freshPhone();
    await sendMessage(text({ to: phone }, 'Shown <on> the page'));
    const html = await (await fetch(`${graph.url}/`)).text();
    expect(html).toContain(phone);
    expect(html).toContain('Shown &#60;on&#62; the page');
    const json = (await (await fetch(`${graph.url}/local/sends`)).json()) as { to?: string }[];
    expect(json.some((s) => s.to === phone)).toBe(true);
  });
});
