/**
 * What each event adds to the reports' aggregates (shared/store/stats.ts): pure functions from an
 * event to its counted facts and its members. The names here are the aggregates' vocabulary; the
 * report builder (build.ts) reads the same names through {@link C} and {@link S}.
 */
import type { MessageAnalysis } from '../domain/records.ts';
import type { CountedFact, MemberFact } from '../store/stats.ts';

/** Counter names (per local hour). Money is micro-USD, sentiment thousandths, times seconds. */
export const C = {
  inbound: 'in',
  /** Customer messages with words (analysed): the hot words' denominator. */
  withWords: 'inw',
  hotWord: (id: string) => `hw_${id}`,
  tag: (tag: string) => `tg_${tag}`,
  intent: (intent: string) => `it_${intent}`,
  sentimentSum: 'sn_s',
  sentimentCount: 'sn_n',
  outbound: 'out',
  outboundBy: (origin: string) => `out_${origin}`,
  /** Statuses of our messages, by the hour the message was asked for. */
  delivered: 'dl',
  read: 'rd',
  failed: 'fl',
  metaMicroUsd: 'meta_u',
  metaCategory: (category: string) => `mc_${category}`,
  billed: 'bill',
  conversationsStarted: 'cv',
  conversationsResolved: 'cvr',
  ratingCount: 'sat_n',
  ratingSum: 'sat_s',
  rating: (score: number) => `sat_${score}`,
  coupon: (rule: string) => `cp_${rule}`,
  orders: 'ord',
  /** Revenue in hundredths of the order's currency. */
  revenue: (currency: string) => `rv_${currency}`,
  cycleSeconds: 'cyc_s',
  cycleCount: 'cyc_n',
  /** Our messages with tracked links, and of them those whose link was clicked (by the hour asked for). */
  linked: 'lk',
  clicks: 'clk',
} as const;

/** Sample lists (per local hour). */
export const L = {
  /** An agent's first-response times, seconds. */
  response: (agentId: string) => `rt_${agentId}`,
} as const;

/** Member sets (per local day). */
export const S = {
  /** Customers who wrote. */
  active: 'act',
  /** Customers whose first message ever came this day (new WhatsApp customers). */
  newCustomers: 'new',
  productQuestion: 'pq',
  purchaseIntent: 'pi',
  deal: 'deal',
  /** Customers who asked about a discount (hot-word family `discount`). */
  discount: 'dsc',
  /** Customers who asked about a payment method (a hot word of family `payment`). */
  paymentAsked: (method: string) => `pa_${method}`,
  /** `<agentId>#<day>T<hh>`: an hour in which the agent sent a message (agent hours, RP-9). */
  agentHours: 'ah',
  /** Conversations the agent answered. */
  agentConversations: (agentId: string) => `ca_${agentId}`,
} as const;

export const PRODUCT_QUESTION_TAGS: readonly string[] = ['price_inquiry', 'purchase_intent'];

/** A stored customer message (not a system notice). */
export interface InboundFactInput {
  readonly wamid: string;
  readonly contactId: string;
  readonly sentAt: number;
  readonly analysis?: MessageAnalysis | undefined;
  /** The message created the customer (their first). */
  readonly isNew?: boolean | undefined;
}

export function inboundFacts(m: InboundFactInput, familyOf: (word: string) => string | undefined): { counted: CountedFact; members: MemberFact } {
  const counts: Record<string, number> = { [C.inbound]: 1 };
  const sets: Record<string, string[]> = { [S.active]: [m.contactId] };
  if (m.isNew) sets[S.newCustomers] = [m.contactId];
  const a = m.analysis;
  if (a) {
    counts[C.withWords] = 1;
    counts[C.intent(a.intent)] = 1;
    counts[C.sentimentSum] = Math.round(a.sentiment * 1000);
    counts[C.sentimentCount] = 1;
    for (const tag of a.tags) counts[C.tag(tag)] = 1;
    for (const word of Object.keys(a.hotWords)) {
      counts[C.hotWord(word)] = 1;
      const family = familyOf(word);
      if (family === 'discount') sets[S.discount] = [m.contactId];
      if (family === 'payment') sets[S.paymentAsked(word)] = [m.contactId];
    }
    const asksProduct = a.intent === 'product_question' || a.sku !== null || a.tags.some((t) => PRODUCT_QUESTION_TAGS.includes(t));
    if (asksProduct) sets[S.productQuestion] = [m.contactId];
    if (a.tags.includes('purchase_intent')) sets[S.purchaseIntent] = [m.contactId];
  }
  return { counted: { id: `in:${m.wamid}`, at: m.sentAt, counts }, members: { at: m.sentAt, sets } };
}

/** One of our messages, on record as sent (Meta took it). */
export function outboundFact(id: string, at: number, origin: string): CountedFact {
  return { id: `out:${id}`, at, counts: { [C.outbound]: 1, [C.outboundBy(origin)]: 1 } };
}

export interface OwnStatusInput {
  readonly id: string;
  readonly status: 'delivered' | 'read' | 'failed' | string;
  /** When the message was asked for (its outbox row's `createdAt`): the hour its read rate belongs to, the same for every status. */
  readonly sentAt: number;
  /** Meta's cost of the message, once delivered. */
  readonly cost?: { readonly amount: number; readonly category: string } | undefined;
}

/**
 * A status of our message: delivered / read / failed counted once each, by the hour it was asked for;
 * a read without a delivered before it counts as delivered too (Meta's delivered may never come
 * once read arrived). Meta's cost is counted once, with the first status that says delivered.
 */
export function ownStatusFacts(s: OwnStatusInput): CountedFact[] {
  const facts: CountedFact[] = [];
  if (s.status === 'delivered' || s.status === 'read') {
    facts.push({ id: `st:${s.id}:delivered`, at: s.sentAt, counts: { [C.delivered]: 1 } });
    if (s.cost) {
      const micro = Math.round(s.cost.amount * 1_000_000);
      facts.push({ id: `cost:${s.id}`, at: s.sentAt, counts: { [C.metaMicroUsd]: micro, [C.metaCategory(s.cost.category)]: micro, [C.billed]: micro > 0 ? 1 : 0 } });
    }
  }
  if (s.status === 'read') facts.push({ id: `st:${s.id}:read`, at: s.sentAt, counts: { [C.read]: 1 } });
  if (s.status === 'failed') facts.push({ id: `st:${s.id}:failed`, at: s.sentAt, counts: { [C.failed]: 1 } });
  return facts;
}

/** An agent's first answer to a waiting customer (AG-1, RP-2), and the conversation it answered. */
export function responseFacts(r: { outboundId: string; agentId: string; at: number; responseMs: number; conversationId?: string | undefined }): { counted: CountedFact; members: MemberFact } {
  return {
    counted: { id: `rt:${r.outboundId}`, at: r.at, samples: { [L.response(r.agentId)]: Math.max(0, Math.round(r.responseMs / 1000)) } },
    members: { at: r.at, sets: r.conversationId ? { [S.agentConversations(r.agentId)]: [r.conversationId] } : {} },
  };
}

/** An agent sent a message: its local hour counts as an agent hour (`<agentId>#<day>T<hh>`). */
export function agentActivityFact(agentId: string, at: number, local: { day: string; hour: number }): MemberFact {
  return { at, sets: { [S.agentHours]: [`${agentId}#${local.day}T${String(local.hour).padStart(2, '0')}`] } };
}

export const conversationStartedFact = (conversationId: string, at: number): CountedFact => ({ id: `cv:${conversationId}`, at, counts: { [C.conversationsStarted]: 1 } });
export const conversationResolvedFact = (conversationId: string, at: number): CountedFact => ({ id: `cvr:${conversationId}`, at, counts: { [C.conversationsResolved]: 1 } });

/** A satisfaction rating 1–5 of a conversation (once per conversation: the first counts). */
export function ratingFact(conversationId: string, score: number, at: number): CountedFact {
  return { id: `sat:${conversationId}`, at, counts: { [C.ratingCount]: 1, [C.ratingSum]: score, [C.rating(score)]: 1 } };
}

export const couponFact = (key: string, rule: string, at: number): CountedFact => ({ id: `cp:${key}`, at, counts: { [C.coupon(rule)]: 1 } });

export interface OrderFactInput {
  readonly orderId: string;
  readonly contactId: string;
  readonly placedAt: number;
  readonly amount?: number | undefined;
  readonly currency?: string | undefined;
  /** The customer's first message: the conversion cycle runs from it. */
  readonly firstInboundAt?: number | undefined;
}

/** An order (a deal, RP-4 and RP-10): counted once per order id, on the day it was placed. */
export function orderFacts(o: OrderFactInput): { counted: CountedFact; members: MemberFact } {
  const counts: Record<string, number> = { [C.orders]: 1 };
  if (o.amount !== undefined && o.amount > 0) counts[C.revenue((o.currency ?? 'USD').toUpperCase())] = Math.round(o.amount * 100);
  if (o.firstInboundAt !== undefined && o.firstInboundAt <= o.placedAt) {
    counts[C.cycleSeconds] = Math.round((o.placedAt - o.firstInboundAt) / 1000);
    counts[C.cycleCount] = 1;
  }
  return { counted: { id: `ord:${o.orderId}`, at: o.placedAt, counts }, members: { at: o.placedAt, sets: { [S.deal]: [o.contactId] } } };
}

/** One of our messages carries tracked links (AU-8). */
export const linkedFact = (outboundId: string, at: number): CountedFact => ({ id: `lk:${outboundId}`, at, counts: { [C.linked]: 1 } });
/** A link of that message was clicked: the message counts once, in the hour it was asked for. */
export const clickedFact = (outboundId: string, createdAt: number): CountedFact => ({ id: `clk:${outboundId}`, at: createdAt, counts: { [C.clicks]: 1 } });
