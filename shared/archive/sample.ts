/**
 * A month of realistic conversation history, as the table stores it, for measuring the archive
 * (ST-2 expects about −75 % from gzip) and for its tests. Deterministic by seed.
 *
 * The rows are shaped exactly like what the code writes:
 * - inbound message rows as ingest stores them (pipeline.ts `toRecord` + MessageStore.put): the
 *   webhook message object itself as `raw` (a JSON string: message rows do carry it), `analysis`
 *   from the shipped rules (analyseMessage) on every message with words, media references, and
 *   after the night: synced (`crmIds`, `syncedAt`, no gsi2) or parked as failed (gsi2 FAILED#SYNC);
 *   media rows with the media function's outcome (`state`, `s3Key`, size, dimensions);
 * - our replies twice, as the send path writes them: the outbox row `OUTBOUND#<id>` (content,
 *   state moved by the statuses, their times, `pricing` from the status and `cost` from the rate
 *   card) and the conversation's message row (recordOutboundMessage);
 * - now and then a message row that only statuses created (a reply sent from the phone app).
 *
 * The mix: short chats (price questions, order status with order and tracking numbers, store
 * pick-ups, complaints, thanks) in English, Cantonese (Traditional) and Mandarin (Simplified),
 * emoji, images, voice notes, stickers, reactions, locations, documents; template messages sent
 * by automations; busier hours in the afternoon (Hong Kong time).
 */
import { createHash } from 'node:crypto';
import { analyseMessage } from '../domain/analysis.ts';
import type { Item } from '../store/client.ts';
import { contactIdFor, keys } from '../store/keys.ts';
import { outboundIdFor } from '../store/outbox.ts';
import { TABLE } from '../resources.ts';
import { DAY_MS, monthEnd, monthStart } from './months.ts';

const BUSINESS = { phoneNumberId: '106540352242922', wabaId: '102290129340398', displayPhone: '85230012345' };
const RETENTION_DAYS = 180;
const HK_OFFSET_MS = 8 * 3_600_000;
/** Relative weights of the hours of the day (Hong Kong time): quiet nights, a peak 14:00–16:00. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 3, 4, 4.5, 5, 5.5, 8, 8, 6, 5, 5, 5.5, 6, 5, 3.5, 2];

type Language = 'en' | 'yue' | 'zh';

interface Rng {
  (): number;
  pick<T>(list: readonly T[]): T;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  hex(length: number): string;
  digits(length: number): string;
}

/** mulberry32, seeded from a string. */
function rngFor(seed: string): Rng {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  const next = (() => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }) as Rng;
  next.pick = (list) => list[Math.floor(next() * list.length)]!;
  next.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  next.chance = (p) => next() < p;
  next.hex = (length) => Array.from({ length }, () => '0123456789ABCDEF'[Math.floor(next() * 16)]).join('');
  next.digits = (length) => Array.from({ length }, () => String(Math.floor(next() * 10))).join('');
  return next;
}

const PRODUCTS = [
  { sku: 'APL-IP15PM', en: 'iPhone 15 Pro Max', zh: 'iPhone 15 Pro Max', price: 9599 },
  { sku: 'APL-IP15P', en: 'iPhone 15 Pro', zh: 'iPhone 15 Pro', price: 8599 },
  { sku: 'APL-IP16PM', en: 'iPhone 16 Pro Max', zh: '蘋果16 Pro Max', price: 9999 },
  { sku: 'APL-APP2', en: 'AirPods Pro 2', zh: 'AirPods Pro', price: 1849 },
  { sku: 'APL-AW9', en: 'Apple Watch Series 9', zh: '蘋果手錶', price: 3199 },
] as const;
const STORES = { en: ['Causeway Bay', 'Mong Kok', 'Tsim Sha Tsui', 'Sha Tin'], yue: ['銅鑼灣', '旺角', '尖沙咀', '沙田'], zh: ['铜锣湾', '旺角', '尖沙咀', '沙田'] };
const NAMES = ['陳美玲', 'Wong Ka Ho', '李家豪', 'Grace Lam', '張大文', 'Peter Cheung', '黃詠儀', 'Mei', 'Ken Lin', '劉小明'];

interface Fill {
  readonly product: (typeof PRODUCTS)[number];
  readonly order: string;
  readonly tracking: string;
  readonly store: string;
}

type Line = (f: Fill, lang: Language) => string;
/** A chat: the customer's and our lines in turn (`c` customer, `a` agent). */
type Script = readonly (readonly ['c' | 'a', Record<Language, readonly string[]>])[];

const t = (en: readonly string[], yue: readonly string[], zh: readonly string[]): Record<Language, readonly string[]> => ({ en, yue, zh });

const SCRIPTS: readonly Script[] = [
  [
    ['c', t(['Hi, is the {product} still in stock?', 'Hello! Do you have {product}?', 'hi any {product} left? 🙏'], ['你好，想問下 {product} 仲有冇貨？', '{product} 有冇現貨呀？', 'hello 有冇 {product} 🙏'], ['你好，请问 {product} 有现货吗？', '{product} 还有货吗？'])],
    ['a', t(['Hi! Yes, {product} is in stock 😊 HKD {price}.', 'Yes we have it, HKD {price}. Would you like to reserve one?'], ['你好！{product} 有現貨 😊 HKD {price}。', '有貨呀，HKD {price}，使唔使幫你留一部？'], ['您好！{product} 有现货 😊 售价 HKD {price}。'])],
    ['c', t(['How much with a discount? any promo code?', 'Any discount if I buy 2?', 'ok how much is shipping?'], ['有冇折呀？買兩部平啲得唔得？', '運費幾錢？', '有冇優惠碼？'], ['可以便宜一点吗？', '运费多少钱？', '有优惠吗？'])],
    ['a', t(['This week 5% off with code SPRING5 🎉', 'Free delivery over HKD 500 👍'], ['今個星期用 SPRING5 有95折 🎉', '滿 HKD 500 免運費 👍'], ['本周用 SPRING5 打95折 🎉'])],
    ['c', t(['great, I will order 👍', 'Thanks!!', 'ok 👌'], ['好呀，我落單 👍', '唔該晒！', 'ok 👌'], ['好的，我下单 👍', '谢谢！'])],
  ],
  [
    ['c', t(['Where is my order #{order}?', 'Hi, my order {order} has not arrived yet 😢', 'any update on #{order}?'], ['我張單 #{order} 幾時寄出？', '我嘅訂單 {order} 仲未到 😢', '#{order} 有冇更新呀？'], ['我的订单 #{order} 什么时候发货？', '订单 {order} 还没到 😢'])],
    ['a', t(['Your order #{order} was shipped, tracking number {tracking} 🚚', 'It is on the way: {tracking}, expected tomorrow.'], ['訂單 #{order} 已經寄出，追蹤號碼 {tracking} 🚚', '已經寄咗，單號 {tracking}，預計聽日到。'], ['订单 #{order} 已发货，快递单号 {tracking} 🚚'])],
    ['c', t(['Thank you 🙏', 'ok thanks', 'Got it, thanks!'], ['唔該 🙏', '收到，多謝！'], ['谢谢 🙏', '好的，谢谢！'])],
  ],
  [
    ['c', t(['Can I pick it up at the {store} store tomorrow?', 'What time does {store} open?'], ['聽日可唔可以去{store}店攞？', '{store}店幾點開門？'], ['明天可以去{store}店取货吗？', '{store}店几点开门？'])],
    ['a', t(['Sure, {store} is open 11:00–21:00. Please bring your order number #{order}.'], ['可以呀，{store}店 11:00–21:00 開，記得帶埋單號 #{order}。'], ['可以的，{store}店营业时间 11:00–21:00，请带上订单号 #{order}。'])],
    ['c', t(['👍', 'See you tomorrow'], ['好，聽日見 👍', '👍'], ['好的 👍'])],
  ],
  [
    ['c', t(['The screen is cracked 😡 I want a refund for #{order}', 'This is the second time the delivery is late. Very disappointed.'], ['個 mon 裂咗 😡 我要退貨 #{order}', '第二次遲送貨，好失望。'], ['屏幕裂了 😡 我要退货 #{order}', '又迟到了，太失望了。'])],
    ['a', t(['So sorry about that 🙏 Could you send us a photo? We will arrange a replacement.'], ['非常抱歉 🙏 可唔可以影張相畀我哋？我哋即刻安排換貨。'], ['非常抱歉 🙏 可以发张照片给我们吗？我们马上安排换货。'])],
    ['c', t(['[image]'], ['[image]'], ['[image]'])],
    ['a', t(['Thank you, a replacement is on the way. Tracking {tracking}.'], ['多謝，新貨已經寄出，單號 {tracking}。'], ['谢谢，换货已寄出，单号 {tracking}。'])],
  ],
];

const fillLine = (text: string, fill: Fill, lang: Language) =>
  text
    .replaceAll('{product}', lang === 'en' ? fill.product.en : fill.product.zh)
    .replaceAll('{price}', fill.product.price.toLocaleString('en-US'))
    .replaceAll('{order}', fill.order)
    .replaceAll('{tracking}', fill.tracking)
    .replaceAll('{store}', fill.store);

const lineOf: (choices: Record<Language, readonly string[]>, rng: Rng) => Line = (choices, rng) => (fill, lang) => fillLine(rng.pick(choices[lang]), fill, lang);

/** A wamid as Meta writes them: base64 of an opaque id holding the customer's number. */
function wamidFor(phoneDigits: string, rng: Rng): string {
  const body = Buffer.concat([Buffer.from([0x1c, 0x18, phoneDigits.length]), Buffer.from(phoneDigits), Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]), Buffer.from(rng.hex(20)), Buffer.from([0x00])]);
  return `wamid.${body.toString('base64')}`;
}

interface SampleContact {
  readonly contactId: string;
  readonly phone: string;
  readonly digits: string;
  readonly bsuid: string;
  readonly name: string;
  readonly language: Language;
  readonly agentId: string;
}

/** Contact `index` of the seed: the same in every month, so neighbouring months share contacts. */
function sampleContact(seed: number, index: number): SampleContact {
  const rng = rngFor(`contact:${seed}:${index}`);
  const digits = `852${rng.pick(['5', '6', '9'])}${rng.digits(7)}`;
  const roll = rng();
  return {
    contactId: contactIdFor({ kind: 'phone', value: `+${digits}` }),
    phone: `+${digits}`,
    digits,
    bsuid: `HK.${rng.digits(20)}`,
    name: rng.pick(NAMES),
    language: roll < 0.4 ? 'yue' : roll < 0.75 ? 'en' : 'zh',
    agentId: rng.pick(['agent-amy', 'agent-ben', 'agent-chloe', 'agent-dan']),
  };
}

/** A time in the month, busier in the Hong Kong afternoon. */
function timeInMonth(month: string, rng: Rng): number {
  const days = Math.round((monthEnd(month) - monthStart(month)) / DAY_MS);
  const total = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  let roll = rng() * total;
  let hour = 0;
  while (hour < 23 && roll >= HOUR_WEIGHTS[hour]!) roll -= HOUR_WEIGHTS[hour++]!;
  const localMidnight = monthStart(month) + rng.int(0, days - 1) * DAY_MS;
  const at = localMidnight + hour * 3_600_000 - HK_OFFSET_MS + rng.int(0, 3_599_999);
  // Kept inside the UTC month (a Hong Kong morning of the 1st is still the month before in UTC),
  // with room for the longest conversation (a template, then 5 turns): no row leaks into the next.
  return Math.min(Math.max(at, monthStart(month)), monthEnd(month) - 6 * 3_600_000);
}

const expiry = (from: number) => Math.floor((from + RETENTION_DAYS * DAY_MS) / 1000);
const seconds = (ms: number) => String(Math.floor(ms / 1000));

interface Chat {
  readonly rows: Item[];
  readonly rng: Rng;
  readonly contact: SampleContact;
  readonly month: string;
  at: number;
  lastInbound?: string;
  lastOutbound?: string;
  outboundCount: number;
}

/** What the night's CRM sync leaves on a row: synced (most), or parked as failed with its reason. */
function syncOutcome(chat: Chat, wamid: string, receivedAt: number): Item {
  if (chat.rng.chance(0.03)) {
    return { syncState: 'failed', syncAttempts: 5, syncError: 'HubSpot 429: You have reached your secondly limit.', ...keys.syncWork('FAILED', wamid, receivedAt) };
  }
  return { syncState: 'synced', syncAttempts: 1, syncedAt: receivedAt + chat.rng.int(2_000, 90_000), crmIds: { hubspot: chat.rng.digits(11) } };
}

function historyKeys(contactId: string, at: number, id: string): Item {
  return { gsi1pk: keys.historyPartition(contactId), gsi1sk: keys.historySort(at, id) };
}

type Media = { kind: string; mime: string; ext: string; caption?: string; filename?: string; width?: number; height?: number };

/** A customer's message: the webhook object, its row as ingest writes it, after media and sync. */
function inbound(chat: Chat, text: string | undefined, media?: Media, special?: Record<string, unknown>): void {
  const { rng, contact } = chat;
  const wamid = wamidFor(contact.digits, rng);
  const sentAt = Math.floor(chat.at / 1000) * 1000;
  const receivedAt = sentAt + rng.int(300, 2_500);
  const context = chat.lastOutbound && rng.chance(0.15) ? { context: { from: BUSINESS.displayPhone, id: chat.lastOutbound } } : {};
  const mediaId = rng.digits(16);
  const sha256 = createHash('sha256').update(mediaId).digest('base64');
  const type = special ? String(special['type']) : media ? media.kind : 'text';
  const payload = special
    ? special['payload']
    : media
      ? { [media.kind]: { ...(media.caption && { caption: media.caption }), ...(media.filename && { filename: media.filename }), mime_type: media.mime, sha256, id: mediaId } }
      : { text: { body: text } };
  const raw = { from: contact.digits, from_user_id: contact.bsuid, id: wamid, timestamp: seconds(sentAt), ...context, type, ...(payload as object) };
  const words = media?.caption ?? text;
  const summary = special ? String(special['summary']) : media ? `[${media.kind}${media.filename ? ` ${media.filename}` : ''}]${media.caption ? ` ${media.caption}` : ''}` : text!;
  chat.rows.push({
    ...keys.message(wamid),
    ...historyKeys(contact.contactId, sentAt, wamid),
    wamid,
    contactId: contact.contactId,
    direction: 'inbound',
    phoneNumberId: BUSINESS.phoneNumberId,
    wabaId: BUSINESS.wabaId,
    type,
    knownType: true,
    summary,
    ...(words !== undefined && { text: words }),
    ...(media && { media: storedMedia(chat, media, wamid, mediaId, sha256, receivedAt) }),
    ...(context.context && { replyTo: context.context.id }),
    sentAt,
    receivedAt,
    raw: JSON.stringify(raw),
    ...(words && { analysis: analyseMessage(words) }),
    ...syncOutcome(chat, wamid, receivedAt),
    [TABLE.ttlAttribute]: expiry(receivedAt),
  });
  chat.lastInbound = wamid;
}

function storedMedia(chat: Chat, media: Media, wamid: string, mediaId: string, sha256: string, receivedAt: number): Item {
  const { rng, contact, month } = chat;
  const stored = {
    kind: media.kind,
    mediaId,
    mimeType: media.mime,
    ...(media.filename && { filename: media.filename }),
    sha256,
    state: 'stored',
    s3Key: `media/${contact.contactId}/${month}/${wamid}.${media.ext}`,
    bytes: media.kind === 'image' ? rng.int(80_000, 900_000) : rng.int(8_000, 400_000),
    contentType: media.kind === 'image' ? 'image/jpeg' : media.mime,
    ...(media.width && { width: media.width, height: media.height }),
    at: receivedAt + rng.int(800, 6_000),
  };
  return stored;
}

const CUSTOMER_MEDIA: readonly ((rng: Rng, text: string) => Media)[] = [
  (rng, text) => ({ kind: 'image', mime: 'image/jpeg', ext: 'jpg', ...(rng.chance(0.4) && { caption: text }), width: 1536, height: 2048 }),
  () => ({ kind: 'audio', mime: 'audio/ogg; codecs=opus', ext: 'ogg' }),
  () => ({ kind: 'sticker', mime: 'image/webp', ext: 'webp', width: 512, height: 512 }),
  (rng) => ({ kind: 'document', mime: 'application/pdf', ext: 'pdf', filename: `receipt-${rng.digits(6)}.pdf` }),
];

/** A customer's turn: mostly words, sometimes media, a reaction or a location instead. */
function customerTurn(chat: Chat, text: string): void {
  const { rng } = chat;
  if (text === '[image]') return inbound(chat, undefined, CUSTOMER_MEDIA[0]!(rng, ''));
  const roll = rng();
  if (roll < 0.1) return inbound(chat, undefined, rng.pick(CUSTOMER_MEDIA)(rng, text));
  if (roll < 0.13 && chat.lastOutbound) {
    const emoji = rng.pick(['👍', '❤️', '🙏', '😂']);
    return inbound(chat, undefined, undefined, { type: 'reaction', summary: `[reaction ${emoji}]`, payload: { reaction: { message_id: chat.lastOutbound, emoji } } });
  }
  if (roll < 0.145) {
    const [lat, lon] = [Math.round((22.28 + rng() * 0.1) * 1e6) / 1e6, Math.round((114.15 + rng() * 0.1) * 1e6) / 1e6];
    const place = rng.pick(['Times Square', 'Langham Place', 'New Town Plaza']);
    return inbound(chat, undefined, undefined, { type: 'location', summary: `[location] ${place} (${lat}, ${lon})`, payload: { location: { latitude: lat, longitude: lon, name: place } } });
  }
  inbound(chat, text);
}

type Content = { type: 'text'; text: string } | { type: 'template'; name: string; language: string; parameters: string[] };

/** Our reply or template: its outbox row (statuses, pricing, cost) and the conversation's message row. */
function outbound(chat: Chat, content: Content, origin: 'agent' | 'automation', category: 'service' | 'utility' | 'marketing'): void {
  const { rng, contact } = chat;
  const id = outboundIdFor(`sample#${contact.contactId}#${chat.month}#${chat.outboundCount++}`);
  const wamid = wamidFor(contact.digits, rng);
  const createdAt = chat.at;
  const sendingAt = createdAt + rng.int(20, 400);
  const sentAt = sendingAt + rng.int(150, 900);
  const summary = content.type === 'text' ? content.text : `[template ${content.name}] ${content.parameters.join(' · ')}`;
  const fate = rng();
  const state = fate < 0.03 ? 'failed' : fate < 0.1 ? 'sent' : fate < 0.3 ? 'delivered' : 'read';
  const deliveredAt = state === 'delivered' || state === 'read' ? sentAt + rng.int(1_000, 60_000) : undefined;
  const readAt = state === 'read' ? deliveredAt! + rng.int(5_000, 3_600_000) : undefined;
  const billable = category !== 'service';
  const pricing = { billable, pricingModel: 'PMP', category, type: billable ? 'regular' : 'free_customer_service' };
  const cost = { amount: billable ? (category === 'marketing' ? 0.0732 : 0.0184) : 0, currency: 'USD', category, type: pricing.type, rateCardVersion: '2026-01-01' };
  const statusTime = Math.floor((readAt ?? deliveredAt ?? sentAt) / 1000) * 1000;
  chat.rows.push({
    ...keys.outbound(id),
    ...historyKeys(contact.contactId, createdAt, id),
    id,
    requestHash: createHash('sha256').update(`${id}#${summary}`).digest('base64url'),
    contactId: contact.contactId,
    phoneNumberId: BUSINESS.phoneNumberId,
    to: { phone: contact.phone },
    category,
    origin,
    ...(origin === 'agent' ? { agentId: contact.agentId } : { rule: 'order-shipped' }),
    content,
    summary,
    ...(chat.lastInbound && origin === 'agent' && { replyTo: chat.lastInbound }),
    state,
    attempts: 1,
    wamid,
    ...(state === 'failed' ? { error: { code: 131026, title: 'Message undeliverable' }, failedAt: sentAt + rng.int(1_000, 30_000) } : { pricing, cost }),
    createdAt,
    updatedAt: Math.max(statusTime, sentAt),
    sendingAt,
    sentAt,
    ...(deliveredAt && { deliveredAt }),
    ...(readAt && { readAt }),
    recordedAt: sentAt,
    statusRank: { sent: 1, delivered: 2, read: 3, failed: 4 }[state],
    [TABLE.ttlAttribute]: expiry(createdAt),
  });
  chat.rows.push({
    ...keys.message(wamid),
    ...historyKeys(contact.contactId, sentAt, wamid),
    wamid,
    contactId: contact.contactId,
    direction: 'outbound',
    phoneNumberId: BUSINESS.phoneNumberId,
    wabaId: BUSINESS.wabaId,
    type: content.type,
    knownType: true,
    summary,
    ...(content.type === 'text' && { text: content.text }),
    ...(chat.lastInbound && origin === 'agent' && { replyTo: chat.lastInbound }),
    sentAt,
    receivedAt: sentAt,
    outboundId: id,
    ...syncOutcome(chat, wamid, sentAt),
    [TABLE.ttlAttribute]: expiry(sentAt),
  });
  chat.lastOutbound = wamid;
}

/** A reply sent from the phone app: only its statuses created the row (MessageStore.applyStatus). */
function phoneAppReply(chat: Chat): void {
  const { rng, contact } = chat;
  const wamid = wamidFor(contact.digits, rng);
  const sentAt = Math.floor(chat.at / 1000) * 1000;
  const deliveredAt = sentAt + rng.int(1, 30) * 1000;
  chat.rows.push({
    ...keys.message(wamid),
    ...historyKeys(contact.contactId, sentAt, wamid),
    statusAt_sent: sentAt,
    statusAt_delivered: deliveredAt,
    wamid,
    direction: 'outbound',
    type: 'unknown',
    summary: '[outbound message]',
    sentAt,
    phoneNumberId: BUSINESS.phoneNumberId,
    wabaId: BUSINESS.wabaId,
    receivedAt: sentAt + rng.int(500, 3_000),
    contactId: contact.contactId,
    pricing: { billable: false, pricingModel: 'PMP', category: 'service', type: 'free_customer_service' },
    status: 'delivered',
    statusRank: 2,
    [TABLE.ttlAttribute]: expiry(sentAt),
  });
}

function fillFor(rng: Rng, language: Language): Fill {
  return {
    product: rng.pick(PRODUCTS),
    order: `HK${rng.digits(8)}`,
    tracking: rng.chance(0.6) ? `SF${rng.digits(12)}` : `JD${rng.digits(15)}`,
    store: rng.pick(STORES[language]),
  };
}

/** One conversation: a script played out, minutes apart, now and then opened by a template. */
function conversation(chat: Chat): void {
  const { rng, contact } = chat;
  const lang = contact.language;
  const fill = fillFor(rng, lang);
  chat.at = timeInMonth(chat.month, rng);
  if (rng.chance(0.15)) {
    outbound(chat, { type: 'template', name: 'order_shipped', language: lang === 'en' ? 'en' : lang === 'yue' ? 'zh_HK' : 'zh_CN', parameters: [contact.name, fill.order, fill.tracking] }, 'automation', rng.chance(0.2) ? 'marketing' : 'utility');
    chat.at += rng.int(60_000, 4 * 3_600_000);
  }
  const script = rng.pick(SCRIPTS);
  const turns = script.slice(0, rng.int(Math.min(2, script.length), script.length));
  for (const [who, choices] of turns) {
    const text = lineOf(choices, rng)(fill, lang);
    if (who === 'c') customerTurn(chat, text);
    else if (rng.chance(0.03)) phoneAppReply(chat);
    else outbound(chat, { type: 'text', text }, 'agent', 'service');
    chat.at += rng.int(20_000, 900_000);
  }
}

/**
 * A month ('YYYY-MM', default 2026-03) of history of `contacts` customers, as stored rows (with
 * their index keys and expiry). Most customers have one or two conversations in a month, a few
 * many (a geometric number, at most 8).
 */
export function sampleMonth(contacts: number, seed: number, month = '2026-03'): Item[] {
  const rows: Item[] = [];
  for (let index = 0; index < contacts; index++) {
    const contact = sampleContact(seed, index);
    const rng = rngFor(`history:${seed}:${month}:${index}`);
    const chat: Chat = { rows, rng, contact, month, at: monthStart(month), outboundCount: 0 };
    let conversations = 1;
    while (conversations < 8 && rng.chance(0.45)) conversations++;
    for (let c = 0; c < conversations; c++) conversation(chat);
  }
  return rows;
}

/** The contact ids `sampleMonth(contacts, seed)` writes for, in order. */
export function sampleContactIds(contacts: number, seed: number): string[] {
  return Array.from({ length: contacts }, (_, index) => sampleContact(seed, index).contactId);
}
