/**
 * `npm run simulate`: sends realistic signed webhooks to the running local stack (`npm start`)
 * — several message types, phone formats, a customer with a username and no phone, a number
 * change, a duplicate delivery, status callbacks, a second business number — then prints the
 * contacts and messages stored and what reached the CRM.
 */
import { SEED_MEDIA } from './graph/media.ts';
import { LOCAL_DEFAULTS } from './stack.ts';
import {
  DEFAULT_BUSINESS,
  deliver,
  inboundMessage,
  newWamid,
  numberChange,
  statusUpdate,
  textMessage,
  type Business,
  type Customer,
} from './webhooks.ts';
import { DEFAULT_TIME_ZONE, localTime } from '#shared/reports/time';

const base = process.env['SCRM_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? LOCAL_DEFAULTS.PORT}`;
const appSecret = process.env['WHATSAPP_APP_SECRET'] ?? LOCAL_DEFAULTS.WHATSAPP_APP_SECRET;
const webhook = `${base}/webhook`;
const run = Date.now().toString(36);

const second: Business = { wabaId: '203301239450509', phoneNumberId: '117651463353033', displayPhone: '886223456789' };
const mei: Customer = { waId: '85291234567', bsuid: `HK.${run}1001`, name: '陳美玲 Mei' };
const ken: Customer = { bsuid: `TW.${run}2002`, username: 'ken.lin', name: 'Ken Lin' };
const olga: Customer = { waId: '79161234567', bsuid: `RU.${run}3003`, name: 'Ольга' };
const odd: Customer = { waId: '0000123', bsuid: `HK.${run}4004`, name: 'Unknown number' };

/** The seeded media's SHA-256 as a webhook carries it (base64), from the Graph stand-in's metadata. */
async function seedHashes(): Promise<Record<keyof typeof SEED_MEDIA, string | undefined>> {
  const endpoints = (await fetch(`${base}/local/endpoints`).then((r) => r.json()).catch(() => ({}))) as { graphUrl?: string };
  const token = process.env['WHATSAPP_ACCESS_TOKEN'] ?? LOCAL_DEFAULTS.WHATSAPP_ACCESS_TOKEN;
  const entries = await Promise.all(
    Object.entries(SEED_MEDIA).map(async ([kind, id]) => {
      const meta = endpoints.graphUrl ? ((await fetch(`${endpoints.graphUrl}/v25.0/${id}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json()).catch(() => ({}))) as { sha256?: string }) : {};
      return [kind, meta.sha256 ? Buffer.from(meta.sha256, 'hex').toString('base64') : undefined] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<keyof typeof SEED_MEDIA, string | undefined>;
}
const hashes = await seedHashes();
const media = (kind: keyof typeof SEED_MEDIA, mimeType: string, extra: Record<string, unknown> = {}) => ({ id: SEED_MEDIA[kind], mime_type: mimeType, ...(hashes[kind] && { sha256: hashes[kind] }), ...extra });

const minute = 60_000;
const t0 = Date.now() - 30 * minute;
const first = newWamid(`${run}-first`);
const outbound = newWamid(`${run}-outbound`);

const steps: [string, unknown][] = [
  ['Mei (HK phone + BSUID) asks a price', textMessage(mei, 'Hi, how much is the iPhone 15 Pro Max 256GB?', { wamid: first, at: t0 })],
  ['…the same delivery again (Meta retries)', textMessage(mei, 'Hi, how much is the iPhone 15 Pro Max 256GB?', { wamid: first, at: t0 })],
  ['Mei sends a 12 MP photo with a caption (kept as a JPEG under 5 MB, no GPS)', inboundMessage(mei, { type: 'image', image: media('photo', 'image/jpeg', { caption: '呢隻色有冇貨？' }) }, { at: t0 + minute })],
  ['…a screenshot with transparency, a voice note and an invoice PDF', inboundMessage(mei, { type: 'image', image: media('png', 'image/png') }, { at: t0 + minute + 5_000 })],
  ['', inboundMessage(mei, { type: 'audio', audio: media('voice', 'audio/ogg; codecs=opus', { voice: true }) }, { at: t0 + minute + 10_000 })],
  ['', inboundMessage(mei, { type: 'document', document: media('pdf', 'application/pdf', { filename: 'invoice-1042.pdf' }) }, { at: t0 + minute + 15_000 })],
  ['Ken (username, no phone) writes in traditional Chinese', textMessage(ken, '請問你們信義區的門市幾點開？', { at: t0 + 2 * minute })],
  ['Ken taps a quick-reply button', inboundMessage(ken, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'store-hours', title: '門市營業時間' } } }, { at: t0 + 3 * minute })],
  ['Olga (RU phone) arrives from a click-to-WhatsApp ad', inboundMessage(olga, { type: 'text', text: { body: 'Здравствуйте! Сколько стоит доставка?' }, referral: { source_url: 'https://fb.me/ad', source_id: '120208', source_type: 'ad', headline: 'Winter sale', ctwa_clid: 'ARA…' } }, { at: t0 + 4 * minute })],
  ['Olga shares her location', inboundMessage(olga, { type: 'location', location: { latitude: 55.7558, longitude: 37.6173, name: 'Red Square', address: 'Moscow' } }, { at: t0 + 5 * minute })],
  ['A number WhatsApp sends that no region knows', textMessage(odd, 'hello?', { at: t0 + 6 * minute })],
  ['Mei reacts, orders and sends a type this version does not know', inboundMessage(mei, { type: 'reaction', reaction: { message_id: first, emoji: '👍' } }, { at: t0 + 7 * minute })],
  ['', inboundMessage(mei, { type: 'order', order: { catalog_id: '7788', text: 'for my sister', product_items: [{ product_retailer_id: 'APL-IP15PM', quantity: 1, item_price: 9999, currency: 'HKD' }] } }, { at: t0 + 8 * minute })],
  ['', inboundMessage(mei, { type: 'poll_vote', poll_vote: { option: 'blue' } }, { at: t0 + 9 * minute })],
  ['Our reply to Ken: sent, delivered, read (BSUID only)', statusUpdate(outbound, 'sent', { bsuid: ken.bsuid }, { at: t0 + 10 * minute })],
  ['', statusUpdate(outbound, 'read', { bsuid: ken.bsuid }, { at: t0 + 12 * minute })],
  ['', statusUpdate(outbound, 'delivered', { bsuid: ken.bsuid }, { at: t0 + 11 * minute })],
  ['Mei changes her number', numberChange(mei, '85298765432', `HK.${run}1009`, { at: t0 + 13 * minute })],
  ['Mei writes from the new number (new phone, new BSUID)', textMessage({ ...mei, waId: '85298765432', bsuid: `HK.${run}1009` }, 'New number, same Mei. Is the order shipped?', { at: t0 + 14 * minute })],
  ['Ken writes to the second business number', textMessage(ken, 'Hello Taipei store', { at: t0 + 15 * minute, business: second })],
  ['Olga asks for a discount, again and again', textMessage(olga, 'А скидка есть? Есть скидка на доставку?', { at: t0 + 16 * minute })],
  ['', textMessage(olga, 'Any discount for 2 pieces? discount code?', { at: t0 + 17 * minute })],
  ['Mei decides: purchase intent with a product → one deal', textMessage({ ...mei, waId: '85298765432', bsuid: `HK.${run}1009` }, '我想買 iPhone 15 Pro Max 256GB，今日可以取貨嗎？', { at: t0 + 18 * minute })],
  ['A change this product does not handle (kept raw)', { object: 'whatsapp_business_account', entry: [{ id: DEFAULT_BUSINESS.wabaId, changes: [{ field: 'account_update', value: { event: 'VERIFIED_ACCOUNT' } }] }] }],
];

async function main(): Promise<void> {
  const health = await fetch(`${base}/health`).catch(() => undefined);
  if (!health) throw new Error(`nothing answers at ${base}: start the system first with \`npm start\``);
  const { parts } = (await health.json()) as { parts: { crm: { url?: string } } };

  console.log(`Sending ${steps.length} signed deliveries to ${webhook}\n`);
  let lastLabel = '';
  for (const [label, payload] of steps) {
    const response = await deliver(webhook, payload, appSecret);
    const text = await response.text();
    if (label) lastLabel = label;
    console.log(`  ${response.status}  ${label || `  (${lastLabel.split(' ')[0]} continued)`}${response.ok ? '' : `  ${text}`}`);
    if (!response.ok) process.exitCode = 1;
  }
  const bad = await fetch(webhook, { method: 'POST', headers: { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) }, body: '{}' });
  console.log(`  ${bad.status}  a forged delivery (bad signature) is refused and stored nowhere`);

  console.log('\nWaiting for the CRM sync…');
  const contacts = await waitForSync();
  console.log(`\nStored contacts (${contacts.length}) — one per customer, identities linked:\n`);
  for (const { contact, identities, messages } of contacts) {
    const c = contact as Record<string, unknown>;
    console.log(`• ${c['profileName'] ?? '(no name)'}  [${c['contactId']}]  lead: ${c['leadSource']}  level: ${c['customerLevel']}`);
    console.log(`    phone ${c['phone'] ?? '—'}${c['phoneFlag'] ? ` (${c['phoneFlag']}: ${c['phoneRaw']})` : ''}  BSUID ${c['bsuid'] ?? '—'}${c['username'] ? `  @${c['username']}` : ''}`);
    if (c['previousPhones'] || c['previousBsuids']) console.log(`    previously: ${[...((c['previousPhones'] as string[]) ?? []), ...((c['previousBsuids'] as string[]) ?? [])].join(', ')}`);
    console.log(`    identities: ${identities.map((i) => `${i.kind}=${i.value}`).join(', ')}`);
    const crmIds = Object.entries(c).filter(([k]) => k.startsWith('crm_')).map(([k, v]) => `${k.slice(4)} ${(v as { id?: string }).id}`);
    console.log(`    inbound ${c['inboundCount'] ?? 0}, accounts ${((c['accounts'] as string[]) ?? []).join(', ')}, CRM id ${crmIds.join(', ') || '—'}`);
    const sentiment = c['sentimentCount'] ? ((c['sentimentSum'] as number) / (c['sentimentCount'] as number)).toFixed(2) : '—';
    console.log(`    segment ${c['segment'] ?? '—'}, tags ${((c['tags'] as string[]) ?? []).join(', ') || '—'}, sentiment ${sentiment}, activity ${c['activityScore'] ?? '—'}, priority ${c['priority'] ?? '—'}`);
    for (const m of messages) {
      const status = m['direction'] === 'outbound' ? `  status ${m['status']}` : `  sync ${m['syncState']}`;
      const analysis = m['analysis'] as { intent?: string; sku?: string | null } | undefined;
      const intent = analysis ? `  [${analysis.intent}${analysis.sku ? ` ${analysis.sku}` : ''}]` : '';
      console.log(`      ${new Date(m['sentAt'] as number).toISOString().slice(11, 16)} ${String(m['direction']).padEnd(8)} ${String(m['type']).padEnd(11)} ${String(m['summary'] ?? '').slice(0, 50)}${intent}${status}`);
      const kept = m['media'] as { key?: string; bytes?: number; contentType?: string; state?: string; reason?: string; width?: number; height?: number } | undefined;
      if (kept) console.log(`            media ${kept.state}${kept.key ? `: ${base}/local/${kept.key}  ${kept.contentType}, ${kept.bytes} bytes${kept.width ? `, ${kept.width}×${kept.height}` : ''}` : ''}${kept.reason ? `  (${kept.reason})` : ''}`);
    }
  }
  await roundTrip();
  await automations(parts.crm.url);
  await printCrm();
  await printReport();
}

/** The weekly report of what was just simulated (RP-9): its headline figures and where it is. */
async function printReport(): Promise<void> {
  const response = await fetch(`${base}/local/reports/weekly.json?at=${localTime(Date.now(), process.env['SCRM_TIME_ZONE'] ?? DEFAULT_TIME_ZONE).day}`);
  if (!response.ok) return;
  const r = (await response.json()) as { period: { from: string; to: string; timeZone: string }; messages: { inbound: number; outbound: number }; funnel: { stage: string; count: number }[]; responseTime: { overall: { meanSeconds: number | null } }; cost: { metaUsd: number; awsUsd: number }; alerts: string[] };
  console.log(`\nThis week's report (${r.period.from} – ${r.period.to}, ${r.period.timeZone}): ${r.messages.inbound} customer messages, ${r.messages.outbound} ours; funnel ${r.funnel.map((f) => `${f.stage} ${f.count}`).join(' → ')}; mean first response ${r.responseTime.overall.meanSeconds ?? '—'} s; Meta $${r.cost.metaUsd.toFixed(4)}, AWS $${r.cost.awsUsd.toFixed(4)}; ${r.alerts.length} alert(s)`);
  console.log(`  ${base}/local/reports/weekly.html (also .json, .csv; npm run report -- weekly)`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The automations (config/automation.json) in conversations: what each customer said and what the rules answered. */
async function automations(crmUrl: string | undefined): Promise<void> {
  console.log('\nAutomations (rules in config/automation.json; every message through the same policy gate):');
  const amy: Customer = { waId: '85263334444', bsuid: `HK.${run}6006`, name: 'Amy Chan' };
  const wing: Customer = { waId: '85264445555', bsuid: `HK.${run}7007`, name: '黃永 Wing' };
  const ivan: Customer = { waId: '79031112233', bsuid: `RU.${run}8008`, name: 'Иван' };
  const say = async (c: Customer, text: string) => {
    await deliver(webhook, textMessage(c, text), appSecret);
    await sleep(700);
  };

  await say(amy, 'Hi! How much is shipping?');
  await say(amy, 'And what is your return policy?');
  const endpoints = (await (await fetch(`${base}/local/endpoints`)).json()) as { courierUrl?: string };
  // The shop's order of Amy, seeded in the local HubSpot (the other stand-ins seed orders on their own pages).
  const kind = ((await fetch(`${base}/local/crm`).then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined)) as { kind?: string } | undefined)?.kind;
  if (crmUrl && kind === 'hubspot') {
    await waitForSync();
    await fetch(`${crmUrl}/_local/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ whatsappPhone: `+${amy.waId}`, name: '#3001', trackingNumber: 'SF1234567890', carrier: 'sf-express', skus: ['CET-GSC500'] }) });
  }
  await say(amy, 'where is my parcel?');
  await api('POST', '/api/orders', { customer: { contactId: await contactOf(amy) }, orderId: `${run}-3002`, placedAt: Date.now(), trackingNumber: '1Z999AA10123456784', skus: ['CET-GSC500'] });
  await api('PUT', `/api/contacts/${await contactOf(amy)}/consent`, { marketing: true, source: 'simulate: checkout box' });
  if (endpoints.courierUrl) {
    await fetch(`${endpoints.courierUrl}/local/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tracking_number: '1Z999AA10123456784', tag: 'OutForDelivery' }) });
    await sleep(1_000);
  }

  for (const q of ['Is the Dyson Airwrap in stock?', '有冇其他顏色？', 'Does it come with a warranty?', 'Is it suitable for fine hair?']) await say(wing, q);
  await say(wing, '太貴啦 too expensive');
  await say(wing, 'still too expensive for me');
  await say(wing, 'where is your shop?');
  await deliver(webhook, inboundMessage(wing, { type: 'location', location: { latitude: 22.3193, longitude: 114.1694, name: 'Mong Kok MTR' } }), appSecret);
  await sleep(1_000);

  await say(ivan, 'Соедините с оператором, пожалуйста');
  await say(ivan, 'Сколько стоит доставка?');
  const ivanId = await contactOf(ivan);
  await api('POST', '/api/messages', { to: { contactId: ivanId }, category: 'service', text: 'Здравствуйте, Иван! Это Ольга, чем помочь?', origin: 'agent', agentId: 'ag-olga' }, `${run}-olga-1`);
  await sleep(500);
  await api('POST', `/api/conversations/${ivanId}/resolve`, {});
  await sleep(1_200);

  for (const customer of [amy, wing, ivan]) {
    const id = await contactOf(customer);
    const contact = (await api('GET', `/api/contacts/${id}`)) as { agentId?: string; lastCoupon?: { code: string }; address?: { label: string; postalCode?: string } };
    const { messages } = (await api('GET', `/api/contacts/${id}/messages`)) as { messages: { direction: string; text?: string; origin?: string; rule?: string; state?: string }[] };
    console.log(`\n• ${customer.name}${contact.agentId ? `  (agent ${contact.agentId})` : ''}${contact.lastCoupon ? `  coupon ${contact.lastCoupon.code}` : ''}${contact.address ? `  address ${contact.address.label}` : ''}`);
    for (const m of messages) {
      const who = m.direction === 'inbound' ? 'customer  ' : `${m.rule ?? m.origin ?? 'us'}`.padEnd(10);
      console.log(`    ${who} ${String(m.text ?? '').replace(/\s+/gu, ' ').slice(0, 110)}${m.direction === 'outbound' && m.state ? `  [${m.state}]` : ''}`);
    }
  }
}

const apiToken = process.env['SCRM_API_TOKEN'] ?? LOCAL_DEFAULTS.SCRM_API_TOKEN;

async function api(method: string, path: string, body?: unknown, key?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function contactOf(customer: Customer): Promise<string> {
  const found = (await api('GET', `/api/contacts?bsuid=${encodeURIComponent(customer.bsuid)}`)) as { contacts: { contactId: string }[] };
  return found.contacts[0]!.contactId;
}

/** Sends through the API and waits for the message's last state (read, failed …). */
async function sendAndFollow(label: string, body: Record<string, unknown>): Promise<void> {
  const answer = await api('POST', '/api/messages', body, `${run}-${label}`);
  let line = `  ${String(answer['state']).padEnd(9)} ${label}${answer['reason'] ? `  — ${answer['reason']}` : ''}`;
  if (answer['state'] === 'queued' || answer['state'] === 'deferred') {
    const deadline = Date.now() + 20_000;
    let view: Record<string, unknown> = answer;
    while (Date.now() < deadline) {
      view = await api('GET', `/api/messages/${String(answer['id'])}`);
      if (['read', 'failed', 'denied', 'unknown'].includes(String(view['state']))) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const cost = view['cost'] as { amount: number; currency: string; type: string } | undefined;
    const to = view['to'] as { phone?: string; bsuid?: string };
    line = `  ${String(view['state']).padEnd(9)} ${label}  → ${to.phone ? `to ${to.phone}` : `recipient ${to.bsuid}`}${cost ? `, cost ${cost.amount} ${cost.currency} (${cost.type})` : ''}`;
  }
  console.log(line);
}

/** The other direction: replies, a template outside the window, an opt-out, a BSUID-only customer. */
async function roundTrip(): Promise<void> {
  console.log('\nSending through the API (policy gate → outbox → Graph API stand-in → signed status webhooks back):\n');
  const lee: Customer = { waId: '85261234567', bsuid: `HK.${run}5005`, name: 'Lee' };
  await deliver(webhook, textMessage(lee, 'Thanks, I will think about it.', { at: Date.now() - 26 * 60 * minute }), appSecret);
  await deliver(webhook, textMessage(olga, 'STOP', { at: Date.now() - minute }), appSecret);

  const meiNow: Customer = { ...mei, waId: '85298765432', bsuid: `HK.${run}1009` };
  await sendAndFollow('an agent answers Mei (inside the 24 h window)', { to: { contactId: await contactOf(meiNow) }, category: 'service', text: 'Yes, we have it in stock: HK$9,999. Shall I reserve one?', origin: 'agent', agentId: 'ag-mei' });
  const leeId = await contactOf(lee);
  await sendAndFollow('free-form to Lee, who wrote 26 h ago', { to: { contactId: leeId }, category: 'service', text: 'Still thinking?' });
  await sendAndFollow('a utility template to Lee instead', { to: { contactId: leeId }, category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['Lee', 'HK-2291', 'ready for pick-up'] } });
  await sendAndFollow('a promotion to Olga, who wrote STOP', { to: { contactId: await contactOf(olga) }, category: 'marketing', template: { name: 'spring_sale', language: 'en', parameters: { first_name: 'Olga', discount: '20%', end_date: 'Sunday' } } });
  await sendAndFollow('a reply to Ken, known only by BSUID', { to: { contactId: await contactOf(ken) }, category: 'service', text: '門市營業時間：每日 11:00–21:00' });
}

async function waitForSync() {
  type View = { contact: Record<string, unknown>; identities: { kind: string; value: string }[]; messages: Record<string, unknown>[] };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const contacts = (await (await fetch(`${base}/local/contacts`)).json()) as View[];
    const pending = contacts.flatMap((c) => c.messages).filter((m) => m['direction'] === 'inbound' && m['syncState'] !== 'synced');
    if (pending.length === 0 || Date.now() > deadline) {
      if (pending.length) console.log(`  ${pending.length} message(s) not synced yet (see ${base}/health)`);
      return contacts;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What the CRM's stand-in holds now, the same way for HubSpot, Salesforce, Zoho and the webhook receiver. */
async function printCrm(): Promise<void> {
  const state = (await fetch(`${base}/local/crm`)
    .then((r) => (r.ok ? r.json() : undefined))
    .catch(() => undefined)) as
    | {
        kind: string;
        url: string;
        contacts: { id: string; bsuid?: string; phone?: string; firstName?: string; lastName?: string; fields: Record<string, unknown> }[];
        messages: { id: string; contactId: string; body: string }[];
        opportunities: { id: string; contactId: string; sku?: string }[];
        cases: { id: string; contactId: string; type?: string; status: string; subject?: string }[];
      }
    | undefined;
  if (!state) {
    console.log('\nThe CRM is not a local stand-in: open it to check.');
    return;
  }
  console.log(`\nIn the CRM (${state.kind}, ${state.url}): ${state.contacts.length} contacts, ${state.messages.length} WhatsApp messages, ${state.opportunities.length} opportunities${state.cases.length ? `, ${state.cases.length} cases` : ''}\n`);
  const field = (c: { fields: Record<string, unknown> }, suffix: string) => Object.entries(c.fields).find(([k]) => k.toLowerCase().replace(/__c$/, '').endsWith(suffix))?.[1] ?? '—';
  for (const contact of state.contacts) {
    console.log(`• #${contact.id} ${[contact.firstName, contact.lastName].filter(Boolean).join(' ') || '(no name)'}  phone ${contact.phone ?? '—'}  BSUID ${contact.bsuid ?? '—'}`);
    console.log(`    segment ${String(field(contact, 'segment'))}, tags ${String(field(contact, 'tags'))}, hot words ${String(field(contact, 'hot_words'))}, emoji ${String(field(contact, 'frequent_emoji'))}`);
    for (const o of state.opportunities.filter((x) => x.contactId === contact.id)) console.log(`    opportunity: ${o.sku ?? '—'}`);
    for (const k of state.cases.filter((x) => x.contactId === contact.id)) console.log(`    case (${k.type ?? '—'}, ${k.status}): ${k.subject ?? ''}`);
    for (const m of state.messages.filter((x) => x.contactId === contact.id)) console.log(`      ${m.body.slice(0, 70)}`);
  }
}

main().catch((error: unknown) => {
  console.error(String(error instanceof Error ? error.message : error));
  process.exit(1);
});
