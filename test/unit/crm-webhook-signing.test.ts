/**
 * The webhook adapter signs as the Standard Webhooks spec says, checked independently of the
 * `standardwebhooks` library with node:crypto: `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` under the base64 key after `whsec_`, `webhook-timestamp` in unix seconds,
 * and the body sent byte for byte the one signed.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookAdapter } from '#shared/crm/webhook/adapter';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The spec's scheme, written out: what any receiver's Code step computes. */
function specSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

interface Captured {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly init: RequestInit;
}

function capturing(statuses: number[] = [200]) {
  const requests: Captured[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, headers: { ...(init.headers as Record<string, string>) }, body: String(init.body), init });
    return new Response('{"status":"success"}', { status: statuses[requests.length - 1] ?? 200 });
  };
  return { requests, fetch };
}

describe('Standard Webhooks signing', () => {
  it('matches the reference vector of the Standard Webhooks libraries, by the library and by hand', () => {
    // The test vector the official libraries share (id, timestamp, payload, expected signature).
    const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    expect(new Webhook(SECRET).sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}')).toBe(expected);
    expect(specSignature(SECRET, 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}')).toBe(expected);
  });

  it('POSTs JSON with webhook-id, webhook-timestamp (seconds) and a v1 signature over id.timestamp.body', async () => {
    const { requests, fetch } = capturing();
    const now = 1_780_000_000_123;
    const adapter = new WebhookAdapter({ url: 'https://hooks.example.test/hooks/catch/1/abc/', secret: async () => SECRET, fetch, now: () => now });
    const result = await adapter.logMessage({ wamid: 'wamid.SIGN1', contactCrmId: 'c-1', direction: 'inbound', body: 'Hi — 你好 👋', timestamp: now - 5_000 });

    expect(requests).toHaveLength(1);
    const [request] = requests as [Captured];
    expect(request.url).toBe('https://hooks.example.test/hooks/catch/1/abc/');
    expect(request.init.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe(result.crmId);
    expect(request.headers['webhook-timestamp']).toBe('1780000000');
    expect(request.headers['webhook-signature']).toBe(specSignature(SECRET, result.crmId, '1780000000', request.body));
    // The library a receiver uses accepts it too (its clock is the real one: sign now for that).
    const live = new WebhookAdapter({ url: 'https://hooks.example.test/x', secret: async () => SECRET, fetch });
    await live.logMessage({ wamid: 'wamid.SIGN2', contactCrmId: 'c-1', direction: 'inbound', body: 'ok', timestamp: Date.now() });
    const second = requests[1]!;
    expect(() => new Webhook(SECRET).verify(second.body, second.headers)).not.toThrow();
    expect(() => new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(second.body, second.headers)).toThrow();
  });

  it('signs every retry anew with its own timestamp, under the same webhook-id', async () => {
    const { requests, fetch } = capturing([503, 200]);
    let now = 1_780_000_000_000;
    const adapter = new WebhookAdapter({ url: 'https://hooks.example.test/x', secret: async () => SECRET, fetch, now: () => (now += 7_000), backoffBaseMs: 1 });
    await adapter.createTask({ taskId: 'follow-up:c-1:2026-W48', contactCrmId: 'c-1', subject: 'Call back', dueAt: now });

    expect(requests).toHaveLength(2);
    const [first, second] = requests as [Captured, Captured];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect(Number(second.headers['webhook-timestamp'])).toBeGreaterThan(Number(first.headers['webhook-timestamp']));
    for (const r of requests) {
      expect(r.headers['webhook-signature']).toBe(specSignature(SECRET, r.headers['webhook-id']!, r.headers['webhook-timestamp']!, r.body));
    }
  });

  it('refuses a secret that is not whsec_ + base64 before sending anything (auth: fix the setting)', async () => {
    const { requests, fetch } = capturing();
    const adapter = new WebhookAdapter({ url: 'https://hooks.example.test/x', secret: async () => 'not-a-secret', fetch });
    await expect(adapter.recordServiceReport({ reportId: 'service-week:2026-W48', periodStart: 0, periodEnd: 1, medianFirstResponseMs: 1, conversations: 1, unanswered: 0 })).rejects.toMatchObject({
      kind: 'auth',
      details: { category: 'WEBHOOK_SECRET_INVALID' },
    });
    expect(requests).toHaveLength(0);
  });
});
