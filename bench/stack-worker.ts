/**
 * The bench's stack process: the local stack as `npm start` builds it, plus — for the throughput
 * comparison — the same DynamoDB + SQS calls the webhook makes, made directly from this same
 * process, so both paths share one CPU and one dynalite exactly as the webhook does.
 * Talks to bench/webhook.ts over IPC.
 */
import { normalisePhone } from '#shared/phone';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { seedOf } from '#shared/identity/resolver';
import { startLocalStack } from '#local/stack';
import { newWamid } from '#local/webhooks';
import { closedLoop } from './load.ts';

const stack = await startLocalStack({ env: process.env });

interface DirectRequest {
  readonly kind: 'direct';
  readonly concurrency: number;
  readonly seconds: number;
  readonly customers: { waId: string; bsuid: string; name: string }[];
}

process.on('message', (request: DirectRequest | { kind: 'stop' }) => {
  if (request.kind === 'stop') {
    void stack.stop().then(() => process.exit(0));
    return;
  }
  const { store, identities, syncQueue } = stack.runtime;
  void closedLoop(request.concurrency, request.seconds, async (i) => {
    const c = request.customers[i % request.customers.length]!;
    const now = Date.now();
    const wamid = newWamid();
    const customer = { bsuid: c.bsuid, phone: normalisePhone(c.waId, 'HK'), profileName: c.name };
    const { contactId } = await identities.resolve(customer, now);
    await store.messages.put({ wamid, contactId, direction: 'inbound', phoneNumberId: '106540352242922', wabaId: '102290129340398', type: 'text', knownType: true, summary: 'direct', text: 'direct', sentAt: now, receivedAt: now });
    await store.contacts.applyInbound(contactId, [{ wamid, receivedAt: now, sentAt: now, phoneNumberId: '106540352242922', profileName: c.name }], seedOf(customer, { source: 'whatsapp' }));
    await syncQueue.enqueue([messageSyncJob(wamid, contactId)]);
  }).then((perSecond) => process.send?.({ kind: 'direct', perSecond }));
});

process.send?.({ kind: 'ready', url: stack.url, crmUrl: stack.crmUrl, secret: stack.runtime.secrets.appSecret });
