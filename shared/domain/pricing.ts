/**
 * What Meta charges for one message (RP-5), from a versioned rate card (config/rate-card.json).
 * Meta bills per delivered message since 1 July 2025, and changes what is free over time: until
 * 30 September 2026 service messages and utility templates inside the customer-service window are
 * free; from 1 October 2026 they are billed too. A message is therefore priced with the card in
 * effect when it was sent, never with today's, so last quarter's cost report does not change when
 * a new card arrives. Pure; the card is validated once, and a wrong entry fails naming it.
 *
 * The status webhook's `pricing` says how Meta billed a message (category, `type`, `billable`);
 * this module turns that into an amount. Versions switch at 00:00 UTC (Meta switches at midnight
 * in the WhatsApp Business Account's time zone: a few hours of difference at a card change).
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import * as z from 'zod/mini';
import '../zod.ts';
import rawCard from '../../config/rate-card.json' with { type: 'json' };
import { MESSAGE_CATEGORIES, type MessageCategory } from './policy.ts';

/** Meta's `pricing.type`: billed, free inside the customer-service window, free entry point (72 h after an ad). */
export const PRICING_TYPES = ['regular', 'free_customer_service', 'free_entry_point'] as const;
export type PricingType = (typeof PRICING_TYPES)[number];

/** The market for any region the card does not name. */
export const OTHER_MARKET = 'other';

export interface RateCardVersion {
  /** `YYYY-MM-DD`: the first day (UTC) this version prices. */
  readonly effectiveFrom: string;
  readonly effectiveFromMs: number;
  /** Categories free when Meta bills them `free_customer_service`. */
  readonly freeInWindow: ReadonlySet<MessageCategory>;
  /** Where the figures come from, and what could not be found. */
  readonly source?: string | undefined;
  /** Per market (ISO region or `other`), USD per delivered message. */
  readonly rates: Readonly<Record<string, Readonly<Record<MessageCategory, number>>>>;
}

export interface RateCard {
  readonly currency: string;
  /** Oldest first. */
  readonly versions: readonly RateCardVersion[];
  /** Every market some version prices. */
  readonly markets: ReadonlySet<string>;
}

const rate = z.number().check(z.gte(0));
const CardSchema = z.object({
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'an ISO currency code (e.g. USD)')),
  versions: z
    .array(
      z.object({
        effectiveFrom: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')),
        freeInWindow: z.array(z.enum(MESSAGE_CATEGORIES)),
        source: z.optional(z.string()),
        rates: z.record(
          z.string().check(z.regex(/^([A-Z]{2}|other)$/, 'an ISO region (e.g. HK) or "other"')),
          z.strictObject({ marketing: rate, utility: rate, authentication: rate, service: rate }),
        ),
      }),
    )
    .check(z.minLength(1)),
});

/** config/rate-card.json (or `raw`), validated and sorted by date. */
export function loadRateCard(raw: unknown = rawCard): RateCard {
  const invalid = (problem: string) => new Error(`Invalid config/rate-card.json: ${problem}`);
  const parsed = CardSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '));
  const card = parsed.data;

  const versions = card.versions.map((v, index): RateCardVersion => {
    const effectiveFromMs = Date.parse(`${v.effectiveFrom}T00:00:00Z`);
    if (Number.isNaN(effectiveFromMs) || new Date(effectiveFromMs).toISOString().slice(0, 10) !== v.effectiveFrom) {
      throw invalid(`versions.${index}.effectiveFrom: ${v.effectiveFrom} is not a calendar date`);
    }
    if (!v.rates[OTHER_MARKET]) throw invalid(`versions.${index}.rates: needs an "${OTHER_MARKET}" market for every region it does not name`);
    return { effectiveFrom: v.effectiveFrom, effectiveFromMs, freeInWindow: new Set(v.freeInWindow), source: v.source, rates: v.rates };
  });
  versions.sort((a, b) => a.effectiveFromMs - b.effectiveFromMs);
  versions.forEach((v, i) => {
    if (v.effectiveFromMs === versions[i - 1]?.effectiveFromMs) throw invalid(`versions: two versions take effect on ${v.effectiveFrom}`);
  });
  const markets = new Set(versions.flatMap((v) => Object.keys(v.rates)));
  return { currency: card.currency, versions, markets };
}

let shipped: RateCard | undefined;
/** The shipped card, loaded on first use. */
export function rateCard(): RateCard {
  return (shipped ??= loadRateCard());
}

/** The version in effect at `at` (ms): the latest that took effect on or before it. */
export function versionAt(at: number, card: RateCard = rateCard()): RateCardVersion {
  let found: RateCardVersion | undefined;
  for (const v of card.versions) if (v.effectiveFromMs <= at) found = v;
  if (!found) throw new RangeError(`No rate card version in effect at ${new Date(at).toISOString()} (the first is ${card.versions[0]?.effectiveFrom})`);
  return found;
}

/**
 * The market a phone is priced in: its region when the card prices that region, else `other`.
 * A customer known only by BSUID (no phone) is `other`. Accepts E.164 or WhatsApp's digits-only `wa_id`.
 */
export function marketOf(phoneE164: string | undefined, card: RateCard = rateCard()): string {
  if (!phoneE164) return OTHER_MARKET;
  const international = /^\d+$/.test(phoneE164) ? `+${phoneE164}` : phoneE164;
  const region = parsePhoneNumberFromString(international)?.country;
  return region && card.markets.has(region) ? region : OTHER_MARKET;
}

export interface MessageCostInput {
  /** A market of the card (marketOf()); one the version does not price is priced as `other`. */
  readonly market: string;
  readonly category: MessageCategory;
  readonly pricingType: PricingType;
  /** Meta's `pricing.billable`: false means not charged, whatever the rate. */
  readonly billable?: boolean | undefined;
  /** When the message was sent (ms). */
  readonly at: number;
}

export interface MessageCost {
  readonly amount: number;
  readonly currency: string;
  readonly category: MessageCategory;
  readonly type: PricingType;
  /** `effectiveFrom` of the version that priced it. */
  readonly rateCardVersion: string;
}

/** What Meta charges for one delivered message. */
export function messageCost(input: MessageCostInput, card: RateCard = rateCard()): MessageCost {
  const version = versionAt(input.at, card);
  const rates = version.rates[input.market] ?? version.rates[OTHER_MARKET]!;
  const free =
    input.billable === false ||
    input.pricingType === 'free_entry_point' ||
    (input.pricingType === 'free_customer_service' && version.freeInWindow.has(input.category));
  return {
    amount: free ? 0 : rates[input.category],
    currency: card.currency,
    category: input.category,
    type: input.pricingType,
    rateCardVersion: version.effectiveFrom,
  };
}
