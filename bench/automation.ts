/**
 * The automations' timing on the local stack (as `npm start` runs it: the webhook, the
 * automation function on the local bus, the send function and the Graph API, CRM and courier
 * stand-ins):
 *
 * 1. AU-1: `customers` customers ask "how much is shipping?" at `rate` a second, open loop; the
 *    first automated reply's latency is from the webhook POST to the Graph API receiving the
 *    send (target p95 < 2 s locally; the article's 45 s).
 * 2. AU-2: customers with an order in the CRM ask "where is my parcel?": the reply's latency the
 *    same way, and the CRM lookup of the last order on its own (`findLastOrder`, target ≤ 0.8 s).
 */
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { startLocalStack } from '#local/stack';
import { deliver, textMessage, type Customer } from '#local/webhooks';
import { percentile, sleep } from './load.ts';

export interface AutomationBenchOptions {
  readonly customers: number;
  readonly rate: number;
  readonly orderCustomers: number;
}

export interface AutomationBenchResult {
  readonly quickReplies: number;
  readonly quickReplyMs: { p50: number; p95: number; max: number };
  readonly orderReplies: number;
  readonly orderReplyMs: { p50: number; p95: number; max: number };
  readonly crmLookupMs: { p50: number; p95: number; max: number };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const stats = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) });

export async function benchAutomation(options: AutomationBenchOptions): Promise<AutomationBenchResult> {
  const stack = await startLocalStack({ dataDir: null, env: { PORT: '0' }, crmPort: 0, logger: silent, graphStatusDelaysMs: { sent: 20, delivered: 30, read: 40 } });
  const secret = stack.runtime.secrets.appSecret;
  const run = Date.now();
  try {
    const customers: Customer[] = Array.from({ length: options.customers }, (_, i) => ({ waId: `8527${String(1_000_000 + i).padStart(7, '0')}`, bsuid: `HK.qr${run}${i}`, name: `Quick ${i}` }));
    const asked = new Map<string, number>();
    const started = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < customers.length; i++) {
      const wait = started + (i * 1000) / options.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const c = customers[i]!;
      asked.set(c.waId!, Date.now());
      inFlight.push(deliver(stack.webhookUrl, textMessage(c, `Hi, how much is shipping to Kowloon? (${i})`), secret));
    }
    await Promise.all(inFlight);
    const quick = await repliesTo(stack, asked, 'Shipping is free');

    // Order status: customers known to the CRM with an order and a parcel at the courier.
    const orderCustomers: Customer[] = Array.from({ length: options.orderCustomers }, (_, i) => ({ waId: `8527${String(2_000_000 + i).padStart(7, '0')}`, bsuid: `HK.os${run}${i}`, name: `Order ${i}` }));
    for (const c of orderCustomers) await deliver(stack.webhookUrl, textMessage(c, 'hello'), secret);
    const crmIds: string[] = [];
    for (const c of orderCustomers) {
      const contactId = (await stack.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }])).get(`bsuid#${c.bsuid}`)!;
      for (let tries = 0; tries < 200; tries++) {
        const id = (await stack.runtime.store.contacts.get(contactId))?.crmIds?.['hubspot']?.id;
        if (id) {
          crmIds.push(id);
          break;
        }
        await sleep(100);
      }
      stack.localCrm!.addOrder({ whatsappPhone: `+${c.waId}`, name: `#B-${c.waId}`, trackingNumber: 'SF1234567890', carrier: 'sf-express', skus: ['APL-APP2'] });
    }
    const crm = runtimeCrmAdapter(stack.runtime);
    const lookups: number[] = [];
    for (const id of crmIds) {
      const t = performance.now();
      await crm.findLastOrder(id);
      lookups.push(performance.now() - t);
    }
    const askedOrders = new Map<string, number>();
    for (const c of orderCustomers) {
      askedOrders.set(c.waId!, Date.now());
      await deliver(stack.webhookUrl, textMessage(c, 'where is my parcel?'), secret);
      await sleep(200);
    }
    const orders = await repliesTo(stack, askedOrders, 'Your parcel');
    return { quickReplies: quick.length, quickReplyMs: stats(quick), orderReplies: orders.length, orderReplyMs: stats(orders), crmLookupMs: stats(lookups) };
  } finally {
    await stack.stop();
  }
}

/** Milliseconds from each customer's question to the Graph API receiving the reply that starts with `text`. */
async function repliesTo(stack: Awaited<ReturnType<typeof startLocalStack>>, asked: ReadonlyMap<string, number>, text: string): Promise<number[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const sends = stack.graph!.sends().filter((s) => s.to && asked.has(s.to) && s.summary.includes(text));
    const first = new Map<string, number>();
    for (const s of sends) if (!first.has(s.to!)) first.set(s.to!, Date.parse(s.at));
    if (first.size === asked.size || Date.now() > deadline) return [...first].map(([to, at]) => at - asked.get(to)!);
    await sleep(200);
  }
}
