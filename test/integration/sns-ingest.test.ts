/**
 * IN-7: an account linked to AWS End User Messaging Social gets Meta's webhooks through SNS; the
 * webhook function takes them into the same ingest, as AWS delivers them (a recorded shape).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SNSEvent } from 'aws-lambda';
import { DEFAULT_BUSINESS, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 30_000);
afterAll(async () => h?.stop());

function snsEvent(message: string): SNSEvent {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:ap-east-1:111122223333:whatsapp-events:sub',
        Sns: {
          Type: 'Notification',
          MessageId: 'b1f3c4e2-0000-4000-8000-000000000001',
          TopicArn: 'arn:aws:sns:ap-east-1:111122223333:whatsapp-events',
          Subject: '',
          Message: message,
          Timestamp: '2026-12-02T00:00:00.000Z',
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.ap-east-1.amazonaws.com/cert.pem',
          UnsubscribeUrl: 'https://sns.ap-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

it('a message that came through SNS is stored like one from the webhook, once however often SNS delivers it', async () => {
  const payload = textMessage({ waId: '85291230001', bsuid: 'HK.sns0001', name: 'Sam' }, 'Do you ship to Kowloon?', { wamid: 'wamid.SNS-1' });
  const message = JSON.stringify({
    context: { MetaWabaIds: [{ wabaId: DEFAULT_BUSINESS.wabaId, arn: 'arn:aws:social-messaging:ap-east-1:111122223333:waba/abc' }], MetaPhoneNumberIds: [{ metaPhoneNumberId: DEFAULT_BUSINESS.phoneNumberId, arn: 'arn:aws:social-messaging:ap-east-1:111122223333:phone-number-id/def' }] },
    whatsAppWebhookEntry: JSON.stringify(payload.entry[0]),
    aws_account_id: '111122223333',
    message_timestamp: '2026-12-02T00:00:00.000000000Z',
    messageId: 'c0a8a0b4-0000-4000-8000-000000000002',
  });
  const [first] = await h.app.receiveSns(snsEvent(message));
  expect(first).toMatchObject({ messages: 1 });
  const [again] = await h.app.receiveSns(snsEvent(message));
  expect(again).toMatchObject({ messages: 0, duplicates: 1 });
  const rows = await h.items('MESSAGE');
  expect(rows.filter((r) => r['wamid'] === 'wamid.SNS-1')).toHaveLength(1);
  expect(h.queuedJobs().filter((j) => j.wamid === 'wamid.SNS-1').length).toBeGreaterThanOrEqual(1);
});

it('an SNS message that is not a WhatsApp entry is kept raw, not retried', async () => {
  const summaries = await h.app.receiveSns(snsEvent(JSON.stringify({ hello: 'world' })));
  expect(summaries).toEqual([]);
  const raw = await h.items('RAW');
  expect(raw.some((r) => r['field'] === 'sns' && String(r['reason']).includes('whatsAppWebhookEntry'))).toBe(true);
});
