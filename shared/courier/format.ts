/**
 * The customer-facing answer to "where is my parcel" (AU-2): the parcel's state, the ETA window
 * and the tracking link, in the customer's language, with times in the given IANA time zone
 * (the business's, e.g. Asia/Hong_Kong). Pure: the same parcel, language and zone give the same
 * text. A language this table does not have falls back to English.
 *
 *   en: "Your parcel SF1234567890 is out for delivery. Expected between 14:00 and 18:00 on Thu 3 Dec. Track it: https://…"
 */
import type { EtaWindow, ParcelState, ParcelStatus } from './port.ts';

export const REPLY_LANGUAGES = ['en', 'zh-Hant', 'zh-Hans', 'ru'] as const;
export type ReplyLanguage = (typeof REPLY_LANGUAGES)[number];

interface Phrases {
  /** The locale Intl formats dates and times in. */
  readonly locale: string;
  readonly date: Intl.DateTimeFormatOptions;
  /** Between sentences: a space, or nothing after Chinese full stops. */
  readonly joiner: string;
  /** Completes "Your parcel <number> …". */
  readonly states: Readonly<Record<ParcelState, string>>;
  status(trackingNumber: string, state: string): string;
  /** From and to on one day, in hours. */
  hours(day: string, from: string, to: string): string;
  /** From and to on different days, in hours. */
  span(fromDay: string, from: string, toDay: string, to: string): string;
  oneDay(day: string): string;
  days(from: string, to: string): string;
  link(url: string): string;
}

const PHRASES: Readonly<Record<ReplyLanguage, Phrases>> = {
  en: {
    locale: 'en-GB',
    date: { weekday: 'short', day: 'numeric', month: 'short' },
    joiner: ' ',
    states: {
      pending: 'is registered; the courier has not sent an update yet',
      info_received: 'is registered with the courier and waiting to be picked up',
      in_transit: 'is on its way',
      out_for_delivery: 'is out for delivery',
      attempt_fail: 'could not be delivered: the courier tried but missed you',
      delivered: 'has been delivered',
      available_for_pickup: 'is ready for you to pick up',
      exception: 'has a delivery problem; we are looking into it',
      expired: 'has had no tracking update for a long time; we are looking into it',
    },
    status: (n, s) => `Your parcel ${n} ${s}.`,
    hours: (d, a, b) => `Expected between ${a} and ${b} on ${d}.`,
    span: (da, a, db, b) => `Expected between ${a} on ${da} and ${b} on ${db}.`,
    oneDay: (d) => `Expected on ${d}.`,
    days: (a, b) => `Expected between ${a} and ${b}.`,
    link: (url) => `Track it: ${url}`,
  },
  'zh-Hant': {
    locale: 'zh-Hant-HK',
    date: { weekday: 'short', day: 'numeric', month: 'long' },
    joiner: '',
    states: {
      pending: '已登記，快遞公司尚未提供更新',
      info_received: '已在快遞公司登記，正等待收件',
      in_transit: '正在運送途中',
      out_for_delivery: '正在派送中',
      attempt_fail: '派送未成功，快遞員未能把包裹交給您',
      delivered: '已送達',
      available_for_pickup: '已可領取',
      exception: '派送出現問題，我們正在跟進',
      expired: '已長時間沒有追蹤更新，我們正在跟進',
    },
    status: (n, s) => `您的包裹 ${n} ${s}。`,
    hours: (d, a, b) => `預計於${d} ${a} 至 ${b} 送達。`,
    span: (da, a, db, b) => `預計於${da} ${a} 至${db} ${b} 送達。`,
    oneDay: (d) => `預計於${d}送達。`,
    days: (a, b) => `預計於${a}至${b}送達。`,
    link: (url) => `追蹤包裹：${url}`,
  },
  'zh-Hans': {
    locale: 'zh-Hans-CN',
    date: { weekday: 'short', day: 'numeric', month: 'long' },
    joiner: '',
    states: {
      pending: '已登记，快递公司尚未提供更新',
      info_received: '已在快递公司登记，正等待揽收',
      in_transit: '正在运输途中',
      out_for_delivery: '正在派送中',
      attempt_fail: '派送未成功，快递员未能把包裹交给您',
      delivered: '已送达',
      available_for_pickup: '已可取件',
      exception: '派送出现问题，我们正在跟进',
      expired: '已长时间没有跟踪更新，我们正在跟进',
    },
    status: (n, s) => `您的包裹 ${n} ${s}。`,
    hours: (d, a, b) => `预计于${d} ${a} 至 ${b} 送达。`,
    span: (da, a, db, b) => `预计于${da} ${a} 至${db} ${b} 送达。`,
    oneDay: (d) => `预计于${d}送达。`,
    days: (a, b) => `预计于${a}至${b}送达。`,
    link: (url) => `跟踪包裹：${url}`,
  },
  ru: {
    locale: 'ru-RU',
    date: { weekday: 'short', day: 'numeric', month: 'long' },
    joiner: ' ',
    states: {
      pending: 'зарегистрирована, служба доставки ещё не прислала обновлений',
      info_received: 'зарегистрирована в службе доставки и ждёт отправки',
      in_transit: 'в пути',
      out_for_delivery: 'передана курьеру для доставки',
      attempt_fail: 'не доставлена: курьер не застал вас',
      delivered: 'доставлена',
      available_for_pickup: 'ждёт вас в пункте выдачи',
      exception: 'задерживается из-за проблемы с доставкой, мы разбираемся',
      expired: 'давно не обновлялась, мы разбираемся',
    },
    status: (n, s) => `Ваша посылка ${n} ${s}.`,
    hours: (d, a, b) => `Ожидается ${d}, с ${a} до ${b}.`,
    span: (da, a, db, b) => `Ожидается с ${a} (${da}) до ${b} (${db}).`,
    oneDay: (d) => `Ожидается ${d}.`,
    days: (a, b) => `Ожидается между ${a} и ${b}.`,
    link: (url) => `Отследить: ${url}`,
  },
};

/** States in which an ETA still means something to the customer. */
const ETA_STATES: ReadonlySet<ParcelState> = new Set(['pending', 'info_received', 'in_transit', 'out_for_delivery', 'attempt_fail']);

/**
 * The table's language for a customer's language tag: `zh-Hant`, `zh-HK`, `zh-TW`, `zh-MO`, `yue`
 * → traditional; any other `zh` → simplified; `ru…` → Russian; anything else → English.
 */
export function replyLanguage(language: string | undefined): ReplyLanguage {
  const tag = (language ?? '').trim().replace(/_/g, '-').toLowerCase();
  if (tag === 'yue' || tag.startsWith('yue-') || tag === 'zh-hant' || tag.startsWith('zh-hant-') || /^zh-(hk|tw|mo)$/.test(tag)) return 'zh-Hant';
  if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-Hans';
  if (tag === 'ru' || tag.startsWith('ru-')) return 'ru';
  return 'en';
}

/**
 * The reply: state, ETA window (while the parcel is still on its way, and — when `now` is given —
 * not already over), tracking link. Hours are shown for a window of times, dates for a window of
 * days; a window within one day names that day once. Throws a RangeError for an unknown time zone.
 */
export function formatParcelReply(parcel: ParcelStatus, language: string, timeZone: string, options: { readonly now?: number } = {}): string {
  const phrases = PHRASES[replyLanguage(language)];
  const sentences = [phrases.status(parcel.trackingNumber, phrases.states[parcel.state])];
  const eta = parcel.eta;
  if (eta && ETA_STATES.has(parcel.state) && (options.now === undefined || eta.to > options.now)) {
    const sentence = formatParcelEta(eta, language, timeZone);
    if (sentence) sentences.push(sentence);
  }
  if (parcel.trackingUrl) sentences.push(phrases.link(parcel.trackingUrl));
  return sentences.join(phrases.joiner);
}

/**
 * The state in words, completing "Your parcel <number> …" ("is out for delivery", "正在派送中"):
 * for a template variable of a proactive update (AU-2b).
 */
export function parcelStateWords(state: ParcelState, language: string): string {
  return PHRASES[replyLanguage(language)].states[state];
}

/**
 * The ETA sentence alone ("Expected between 14:00 and 18:00 on Thu 3 Dec."), whatever the state;
 * undefined for an empty window.
 */
export function formatParcelEta(eta: EtaWindow, language: string, timeZone: string): string | undefined {
  if (!(eta.to > eta.from)) return undefined;
  const phrases = PHRASES[replyLanguage(language)];
  const day = (ms: number) => formatter(phrases.locale, timeZone, phrases.date).format(ms);
  const time = (ms: number) => formatter(phrases.locale, timeZone, TIME).format(ms);
  if (eta.precision === 'day') {
    // `to` is exclusive: the last day is the one before it.
    const first = day(eta.from);
    const last = day(eta.to - 1);
    return first === last ? phrases.oneDay(first) : phrases.days(first, last);
  }
  const fromDay = day(eta.from);
  const toDay = day(eta.to);
  return fromDay === toDay ? phrases.hours(fromDay, time(eta.from), time(eta.to)) : phrases.span(fromDay, time(eta.from), toDay, time(eta.to));
}

const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatters.set(key, format);
  }
  return format;
}
