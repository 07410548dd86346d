/**
 * The compliance policy's cost per decision (target ≤ 20 µs): every outbound message is decided,
 * and a broadcast decides once per customer, so `decide` must stay negligible next to the send.
 * 100,000 decisions on realistic counters (a busy customer: templates in the last day, a dozen
 * content hashes over the month, a few event keys), mixing allows, denials and deferrals, after a
 * warm-up. Run: npx tsx bench/policy.ts
 */
import { fileURLToPath } from 'node:url';
import {
  contentHash,
  decide,
  templateContentHash,
  type AccountCounters,
  type CustomerCounters,
  type PolicyContact,
  type PolicyRequest,
} from '#shared/domain/policy';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 2, 4, 10);

function busyCustomer(): CustomerCounters {
  const contentAt: Record<string, number[]> = {};
  for (let i = 0; i < 12; i++) contentAt[contentHash(`automated message ${i}`)] = Array.from({ length: 1 + (i % 5) }, (_, k) => NOW - (k * 5 + i) * D);
  const eventKeysAt: Record<string, number> = {};
  for (let i = 0; i < 4; i++) eventKeysAt[`parcel:${1000 + i}:in_transit`] = NOW - i * 2 * H;
  return {
    version: 42,
    templatesAt: [NOW - 20 * H, NOW - 3 * H],
    contentAt,
    lastMarketingAt: NOW - 5 * D,
    eventKeysAt,
    lastSentAt: NOW - 10 * 60_000,
    businessInitiatedAt: NOW - 30 * H,
  };
}

export async function benchPolicy(decisions = 100_000): Promise<{ perDecisionMicros: number; decisions: number }> {
  const counters = busyCustomer();
  const contacts: PolicyContact[] = [
    { hasPhone: true, lastInboundAt: NOW - 2 * H, marketingConsent: 'opted_in' },
    { hasPhone: true, lastInboundAt: NOW - 3 * D, marketingConsent: undefined },
    { hasPhone: false, lastInboundAt: NOW - 30 * H, lastReferralAt: NOW - 30 * H, marketingConsent: 'opted_in' },
  ];
  const requests: PolicyRequest[] = [
    { category: 'service', kind: 'free_form', origin: 'agent', contentHash: contentHash('Hi, how can I help?') },
    { category: 'utility', kind: 'template', origin: 'automation', contentHash: templateContentHash('parcel_update', 'en', ['1001']), eventKey: 'parcel:1001:out_for_delivery' },
    { category: 'marketing', kind: 'template', origin: 'api', contentHash: templateContentHash('spring_sale', 'zh_HK') },
    { category: 'service', kind: 'free_form', origin: 'automation', contentHash: contentHash('automated message 3') },
  ];
  const account: AccountCounters = { businessInitiated24h: 640, dailyLimit: 1_000, apiCallsToday: 4_200, dailyApiCalls: 10_000, nextSlotAt: NOW + H, nextDayAt: NOW + 14 * H };

  let sink = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const d = decide(contacts[i % 3]!, counters, account, requests[i % 4]!, NOW + (i % 1_000));
      sink += d.kind.length;
    }
  };
  run(20_000);
  const started = performance.now();
  run(decisions);
  const elapsedMs = performance.now() - started;
  if (sink < 0) console.log(sink);
  return { perDecisionMicros: Math.round((elapsedMs * 1000 * 100) / decisions) / 100, decisions };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchPolicy()));
}
