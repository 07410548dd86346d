/**
 * How the webhook adapter takes the receiver's answers (a scripted fetch): 2xx done; 410
 * permanent WEBHOOK_GONE; 429 rate_limited with Retry-After (or waited out when short); 5xx,
 * 408 and network errors retried then transient (a timeout flagged outcomeUnknown, a refused
 * connection not); other 4xx and redirects permanent; 401 re-reads the secret once; the answer
 * body never in an error; the port's read-outs empty with 0 calls.
 */
import { describe, expect, it } from 'vitest';
import { CrmError } from '#shared/crm/port';
import { WebhookAdapter, type FetchLike } from '#shared/crm/webhook/adapter';

const SECRET = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const ROTATED = 'whsec_' + Buffer.alloc(32, 2).toString('base64');

type Step = number | { status: number; retryAfter?: string; body?: string } | 'timeout' | 'refused' | 'reset';

/** A fetch answering the scripted steps in turn (the last one again when they run out). */
function scripted(steps: Step[]) {
  const seen: { headers: Record<string, string>; init: RequestInit }[] = [];
  const fetch: FetchLike = async (_url, init) => {
    const step = steps[Math.min(seen.length, steps.length - 1)]!;
    seen.push({ headers: { ...(init.headers as Record<string, string>) }, init });
    if (step === 'timeout') {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }
    if (step === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    if (step === 'reset') throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    const { status, retryAfter, body } = typeof step === 'number' ? { status: step, retryAfter: undefined, body: undefined } : step;
    return new Response(body ?? '{"status":"error"}', { status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } });
  };
  return { seen, fetch };
}

function adapter(fetch: FetchLike, extra: Partial<ConstructorParameters<typeof WebhookAdapter>[0]> = {}) {
  return new WebhookAdapter({ url: 'https://hooks.example.test/hooks/catch/1/abc/', secret: async () => SECRET, fetch, backoffBaseMs: 1, timeoutMs: 100, ...extra });
}

const message = (wamid = 'wamid.A') => ({ wamid, contactCrmId: 'c-1', direction: 'inbound' as const, body: 'Call me on +852 9123 4567', timestamp: Date.now() });

async function failure(promise: Promise<unknown>): Promise<CrmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrmError);
  return error as CrmError;
}

describe('answers', () => {
  it('2xx is done in one POST; the message CRM id is its webhook-id', async () => {
    const { seen, fetch } = scripted([202]);
    const result = await adapter(fetch).logMessage(message());
    expect(result).toEqual({ crmId: seen[0]!.headers['webhook-id'], created: true, calls: 1 });
    expect(seen[0]!.init.redirect).toBe('manual');
  });

  it('410 Gone is permanent WEBHOOK_GONE at once (no retry)', async () => {
    const { seen, fetch } = scripted([410]);
    const error = await failure(adapter(fetch).logMessage(message()));
    expect(error).toMatchObject({ kind: 'permanent', details: { status: 410, category: 'WEBHOOK_GONE', crm: 'webhook' } });
    expect(error.retryable).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('429 with a long Retry-After is rate_limited with it; a short one is waited out in the attempt', async () => {
    const long = scripted([{ status: 429, retryAfter: '30' }]);
    const error = await failure(adapter(long.fetch).logMessage(message()));
    expect(error).toMatchObject({ kind: 'rate_limited', details: { status: 429, retryAfterMs: 30_000 } });
    expect(long.seen).toHaveLength(1);

    const short = scripted([{ status: 429, retryAfter: '0' }, 200]);
    expect((await adapter(short.fetch).logMessage(message())).calls).toBe(2);
  });

  it('5xx is retried maxTries times, then transient; a success in between ends it', async () => {
    const down = scripted([503]);
    const error = await failure(adapter(down.fetch, { maxTries: 3 }).logMessage(message()));
    expect(error).toMatchObject({ kind: 'transient', details: { status: 503, category: 'HTTP_503' } });
    expect(error.details.outcomeUnknown).toBeUndefined();
    expect(down.seen).toHaveLength(3);
    // Every try the same event: the receiver drops the repeats.
    expect(new Set(down.seen.map((s) => s.headers['webhook-id'])).size).toBe(1);

    const flaky = scripted([500, 502, 200]);
    expect(await adapter(flaky.fetch, { maxTries: 3 }).createOpportunity({ opportunityId: 'wamid.B', contactCrmId: 'c-1', sku: 'S', createdAt: Date.now() })).toMatchObject({ created: true, calls: 3 });
  });

  it('408, 409 and 425 are transient (retried); 400, 404, 422 permanent after one POST', async () => {
    for (const status of [408, 409, 425]) {
      const { seen, fetch } = scripted([status, 200]);
      await adapter(fetch).logMessage(message());
      expect(seen).toHaveLength(2);
    }
    for (const status of [400, 404, 422]) {
      const { seen, fetch } = scripted([status]);
      const error = await failure(adapter(fetch).logMessage(message()));
      expect(error).toMatchObject({ kind: 'permanent', details: { status, category: `HTTP_${status}` } });
      expect(seen).toHaveLength(1);
    }
  });

  it('a redirect is not followed: permanent WEBHOOK_REDIRECT', async () => {
    const { fetch } = scripted([{ status: 302 }]);
    expect(await failure(adapter(fetch).logMessage(message()))).toMatchObject({ kind: 'permanent', details: { category: 'WEBHOOK_REDIRECT' } });
  });

  it('a timeout is retried, then transient with outcomeUnknown; a refused connection is not "unknown"', async () => {
    const slow = scripted(['timeout']);
    const error = await failure(adapter(slow.fetch, { maxTries: 2, timeoutMs: 20 }).logMessage(message()));
    expect(error).toMatchObject({ kind: 'transient', details: { outcomeUnknown: true } });
    expect(slow.seen).toHaveLength(2);

    const refused = scripted(['refused']);
    const notSent = await failure(adapter(refused.fetch, { maxTries: 2 }).logMessage(message()));
    expect(notSent.kind).toBe('transient');
    expect(notSent.details.outcomeUnknown).toBeUndefined();

    const reset = scripted(['reset']);
    expect((await failure(adapter(reset.fetch, { maxTries: 1 }).logMessage(message()))).details.outcomeUnknown).toBe(true);
  });

  it('401 re-reads the secret once: a rotated one is used, the same one ends in auth', async () => {
    const reads: (boolean | undefined)[] = [];
    const secret = async (refresh?: boolean) => {
      reads.push(refresh);
      return SECRET;
    };
    const rotated = scripted([401, 200]);
    const rotating = adapter(rotated.fetch, {
      secret: async (refresh) => {
        reads.push(refresh);
        return refresh ? ROTATED : SECRET;
      },
    });
    await rotating.logMessage(message());
    expect(reads).toEqual([false, true]);
    expect(rotated.seen[1]!.headers['webhook-signature']).not.toBe(rotated.seen[0]!.headers['webhook-signature']);

    reads.length = 0;
    const refused = scripted([403]);
    const error = await failure(adapter(refused.fetch, { secret }).logMessage(message()));
    expect(error).toMatchObject({ kind: 'auth', details: { status: 403, category: 'WEBHOOK_AUTH' } });
    expect(reads).toEqual([false, true]);
    expect(refused.seen).toHaveLength(1);
  });

  it('never puts the answer body or the hook URL in an error', async () => {
    const { fetch } = scripted([{ status: 400, body: '{"error":"bad phone +85291234567 for Amy Chan"}' }]);
    const error = await failure(adapter(fetch).logMessage(message()));
    expect(error.message).not.toMatch(/8529|Amy|hooks\.example/);
  });

  it('stops retrying at the caller deadline', async () => {
    const { seen, fetch } = scripted([503]);
    const started = Date.now();
    const error = await failure(adapter(fetch, { maxTries: 10, backoffBaseMs: 200 }).logMessage(message(), { deadline: Date.now() + 500 }));
    expect(error.kind).toBe('transient');
    expect(Date.now() - started).toBeLessThan(500);
    expect(seen.length).toBeLessThan(10);
  });
});

describe('the port around the POSTs', () => {
  it('a known CRM id short-cuts message, opportunity and task (0 calls); reads answer empty with 0 calls', async () => {
    const { seen, fetch } = scripted([200]);
    const a = adapter(fetch);
    expect(await a.logMessage({ ...message(), knownCrmId: 'msg_x' })).toEqual({ crmId: 'msg_x', created: false, calls: 0 });
    expect(await a.createOpportunity({ opportunityId: 'o', contactCrmId: 'c', sku: 's', createdAt: 0, knownCrmId: 'msg_o' })).toEqual({ crmId: 'msg_o', created: false, calls: 0 });
    expect(await a.createTask({ taskId: 't', contactCrmId: 'c', subject: 's', dueAt: 0, knownCrmId: 'msg_t' })).toEqual({ crmId: 'msg_t', created: false, calls: 0 });
    expect(await a.findLastOrder('c-1')).toEqual({ order: undefined, calls: 0 });
    expect(await a.readProfile('c-1')).toEqual({ calls: 0 });
    expect(await a.readContacts(['c-1'])).toEqual({ contacts: [], calls: 0 });
    expect(seen).toHaveLength(0);
    expect(a.kind).toBe('webhook');
    expect(a.limits).toEqual({ requests: 20, windowMs: 1000, batchSize: 100 });
    expect(adapter(fetch, { limits: { requests: 5, windowMs: 10_000 } }).limits).toEqual({ requests: 5, windowMs: 10_000, batchSize: 100 });
    // A catch hook takes any size; 100 contacts a POST is our cap, a smaller one may be set.
    expect(adapter(fetch, { limits: { batchSize: 500 } }).limits.batchSize).toBe(100);
    expect(adapter(fetch, { limits: { batchSize: 10 } }).limits.batchSize).toBe(10);
  });

  it('upsertContact: the CRM id is our contactId, one POST, also for a known contact', async () => {
    const { seen, fetch } = scripted([200]);
    const a = adapter(fetch);
    expect(await a.upsertContact({ contactId: 'c-9', bsuid: 'US.9' })).toEqual({ crmId: 'c-9', created: true, matchedExisting: false, calls: 1 });
    expect(await a.upsertContact({ contactId: 'c-9', bsuid: 'US.9', knownCrmId: 'c-9' })).toEqual({ crmId: 'c-9', created: false, matchedExisting: false, calls: 1 });
    expect(seen).toHaveLength(2);
  });

  it('two concurrent sends of the same event are one POST', async () => {
    const { seen, fetch } = scripted([200]);
    const a = adapter(fetch);
    const [x, y] = await Promise.all([a.logMessage(message('wamid.SAME')), a.logMessage(message('wamid.SAME'))]);
    expect(seen).toHaveLength(1);
    expect(x.crmId).toBe(y.crmId);
    expect(x.calls + y.calls).toBe(1);
  });

  it('updateContacts: a failure before any batch is thrown; after a delivered batch it marks the rest', async () => {
    const updates = Array.from({ length: 250 }, (_, i) => ({ crmId: `c-${i}`, contactId: `c-${i}`, fields: { tags: [], hotWords: {}, frequentEmoji: [], messageCount: i } }));
    const down = scripted([503]);
    await expect(adapter(down.fetch, { maxTries: 1 }).updateContacts(updates)).rejects.toMatchObject({ kind: 'transient' });

    const partial = scripted([200, 503]);
    const result = await adapter(partial.fetch, { maxTries: 1 }).updateContacts(updates);
    expect(result.calls).toBe(2);
    expect(result.outcomes.slice(0, 100).every((o) => o.ok)).toBe(true);
    // The second batch failed; the third was not tried (the receiver is failing now).
    expect(result.outcomes.slice(100).every((o) => !o.ok && !o.missing && o.error.kind === 'transient')).toBe(true);

    const rejected = scripted([200, 400, 200]);
    const mixed = await adapter(rejected.fetch).updateContacts(updates);
    expect(mixed.calls).toBe(3);
    expect(mixed.outcomes.map((o) => o.ok)).toEqual([...Array(100).fill(true), ...Array(100).fill(false), ...Array(50).fill(true)]);
  });
});
