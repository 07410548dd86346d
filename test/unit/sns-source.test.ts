import { describe, expect, it } from 'vitest';
import { parseWebhook } from '#shared/whatsapp/inbound';
import { SnsMessageError, webhookPayloadFromSns } from '#shared/whatsapp/sns-source';

/**
 * The shape AWS documents for an End User Messaging Social event (managing-event-destination-dlrs)
 * and a recorded delivery has: the header, and Meta's entry as a JSON *string*. Values are made up.
 */
const RECORDED_TEXT_MESSAGE = String.raw`{
  "context": {
    "MetaWabaIds": [{ "wabaId": "1234567890123456", "arn": "arn:aws:social-messaging:eu-west-1:123456789012:waba/fb2594b8a7974770b128a409e2example" }],
    "MetaPhoneNumberIds": [{ "metaPhoneNumberId": "729155140271006", "arn": "arn:aws:social-messaging:eu-west-1:123456789012:phone-number-id/976c72a700aac43eaf573ae050example" }]
  },
  "whatsAppWebhookEntry": "{\"id\":\"1234567890123456\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"393400000001\",\"phone_number_id\":\"729155140271006\"},\"contacts\":[{\"profile\":{\"name\":\"Franca\ud83d\udcbb\"},\"wa_id\":\"393400000002\"}],\"messages\":[{\"from\":\"393400000002\",\"id\":\"wamid.HBgMMzkzNDAwMDAwMDAyFQIAEhgUM0E2RDRCN0Y5NURBRTM3OEJBN0IA\",\"timestamp\":\"1758171394\",\"text\":{\"body\":\"Prova\"},\"type\":\"text\"}]},\"field\":\"messages\"}]}",
  "aws_account_id": "123456789012",
  "message_timestamp": "2025-09-18T04:56:36.684321927Z",
  "messageId": "6d69f07a-c317-4278-9d5c-6a84078419ec"
}`;

function envelope(entry: unknown): string {
  return JSON.stringify({
    context: { MetaWabaIds: [{ wabaId: '1234567890123456', arn: 'arn:aws:social-messaging:eu-west-1:123456789012:waba/x' }], MetaPhoneNumberIds: [] },
    whatsAppWebhookEntry: typeof entry === 'string' ? entry : JSON.stringify(entry),
    aws_account_id: '123456789012',
    message_timestamp: '2025-09-18T04:56:36.684321927Z',
  });
}

const metadata = { display_phone_number: '393400000001', phone_number_id: '729155140271006' };
const OPTIONS = { defaultRegion: 'IT' };

function failure(message: string): SnsMessageError {
  try {
    webhookPayloadFromSns(message);
  } catch (error) {
    expect(error).toBeInstanceOf(SnsMessageError);
    return error as SnsMessageError;
  }
  throw new Error('expected an SnsMessageError');
}

describe('webhooks delivered through End User Messaging Social (SNS)', () => {
  it('turns a recorded SNS message into the payload Meta would have posted', () => {
    const payload = webhookPayloadFromSns(RECORDED_TEXT_MESSAGE);
    expect(payload.object).toBe('whatsapp_business_account');
    expect(payload.entry).toHaveLength(1);
    expect(payload.entry[0]).toMatchObject({ id: '1234567890123456', changes: [{ field: 'messages' }] });
  });

  it('feeds the existing parser: the message, its account and its customer', () => {
    const [event] = parseWebhook(webhookPayloadFromSns(RECORDED_TEXT_MESSAGE), OPTIONS);
    expect(event).toMatchObject({
      kind: 'message',
      wamid: 'wamid.HBgMMzkzNDAwMDAwMDAyFQIAEhgUM0E2RDRCN0Y5NURBRTM3OEJBN0IA',
      account: { wabaId: '1234567890123456', phoneNumberId: '729155140271006' },
      type: 'text',
      text: 'Prova',
      sentAt: 1758171394000,
      customer: { phone: { e164: '+393400000002', valid: true }, profileName: 'Franca💻' },
    });
  });

  it('carries a status with our biz_opaque_callback_data to the parser', () => {
    const entry = {
      id: '1234567890123456',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata,
            statuses: [{ id: 'wamid.OUT1', status: 'delivered', timestamp: '1758171400', recipient_id: '393400000002', biz_opaque_callback_data: 'out#01HZX' }],
          },
        },
      ],
    };
    expect(parseWebhook(webhookPayloadFromSns(envelope(entry)), OPTIONS)).toEqual([
      expect.objectContaining({ kind: 'status', wamid: 'wamid.OUT1', status: 'delivered', callbackData: 'out#01HZX' }),
    ]);
  });

  it('keeps a customer who writes with a username only (BSUID, no phone)', () => {
    const entry = {
      id: '1234567890123456',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata,
            contacts: [{ user_id: 'IT.13491208655302741918', profile: { name: 'F', username: 'franca' } }],
            messages: [{ from_user_id: 'IT.13491208655302741918', id: 'wamid.U1', timestamp: '1758171394', type: 'text', text: { body: 'ciao' } }],
          },
        },
      ],
    };
    const [event] = parseWebhook(webhookPayloadFromSns(envelope(entry)), OPTIONS);
    expect(event).toMatchObject({ kind: 'message', customer: { bsuid: 'IT.13491208655302741918', phone: undefined, username: 'franca' } });
  });

  it('unwraps an SNS notification delivered to SQS without raw message delivery', () => {
    const notification = JSON.stringify({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:whatsapp', Message: RECORDED_TEXT_MESSAGE });
    expect(webhookPayloadFromSns(notification)).toEqual(webhookPayloadFromSns(RECORDED_TEXT_MESSAGE));
  });

  it('names the problem of a malformed message', () => {
    expect(failure('not json').message).toBe('the SNS message is not JSON');
    expect(failure('[1,2]').message).toBe('the SNS message is not a JSON object');
    expect(failure(JSON.stringify({ aws_account_id: '1' })).message).toBe('the SNS message has no whatsAppWebhookEntry');
    expect(failure(JSON.stringify({ whatsAppWebhookEntry: { id: '1', changes: [] } })).message).toBe('whatsAppWebhookEntry is a object, not a JSON string');
    expect(failure(envelope('{"id": "1", "changes": [')).message).toBe('whatsAppWebhookEntry is not JSON');
    expect(failure(envelope({ id: '1234567890123456' })).message).toMatch(/^whatsAppWebhookEntry is not a WhatsApp webhook entry: entry\.0\.changes/);
  });
});
