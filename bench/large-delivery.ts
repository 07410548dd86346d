/**
 * One signed delivery of 1,000 messages, answered by the local stack in its own process: the
 * answer time as Meta would see it (target: within 10 s). Three shapes: one customer writing a
 * thousand messages, 40 customers, and a thousand new customers (the most identity writes).
 */
import { DEFAULT_BUSINESS, deliver, envelope, newWamid, type Customer } from '#local/webhooks';

export interface LargeDeliveryResult {
  readonly messages: number;
  readonly shapes: readonly { customers: number; status: number; answerMs: number; stored: number }[];
}

export async function benchLargeDelivery(webhookUrl: string, secret: string, messages = 1000): Promise<LargeDeliveryResult> {
  const shapes: { customers: number; status: number; answerMs: number; stored: number }[] = [];
  for (const count of [1, 40, 1000]) {
    const tag = `${Date.now()}${count}`;
    const customers: Customer[] = Array.from({ length: count }, (_, i) => ({
      waId: `8526${String(1_000_000 + i + count * 1_000).padStart(7, '0')}`,
      bsuid: `HK.large${tag}${i}`,
      name: `Large ${i}`,
    }));
    const at = String(Math.floor(Date.now() / 1000));
    const payload = envelope(DEFAULT_BUSINESS, {
      contacts: customers.map((c) => ({ profile: { name: c.name }, wa_id: c.waId, user_id: c.bsuid })),
      messages: Array.from({ length: messages }, (_, i) => {
        const c = customers[i % customers.length]!;
        return { from: c.waId, from_user_id: c.bsuid, id: newWamid(), timestamp: at, type: 'text', text: { body: `Is there a discount on the iPhone 15 Pro Max? (${i})` } };
      }),
    });
    const start = performance.now();
    const response = await deliver(webhookUrl, payload, secret);
    const answerMs = performance.now() - start;
    const body = (await response.json()) as { received?: { messages?: number } };
    shapes.push({ customers: count, status: response.status, answerMs, stored: body.received?.messages ?? 0 });
  }
  return { messages, shapes };
}

export function largeDeliveryMarkdown(r: LargeDeliveryResult): string {
  return [
    `One signed delivery of ${r.messages} messages to the local stack (its own process), answer time as Meta sees it:`,
    '',
    '| customers in the delivery | answer | stored | target |',
    '|---:|---:|---:|---|',
    ...r.shapes.map((s) => `| ${s.customers} | ${(s.answerMs / 1000).toFixed(2)} s (HTTP ${s.status}) | ${s.stored} | < 10 s ${s.status === 200 && s.answerMs < 10_000 && s.stored === r.messages ? '✅' : '❌'} |`),
  ].join('\n');
}
