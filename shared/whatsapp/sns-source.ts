/**
 * Inbound webhooks through AWS End User Messaging Social (IN-7). For a WhatsApp account linked to
 * AWS, Meta's webhook goes to AWS, which publishes each `entry` to the account's SNS topic. The
 * SNS `Message` is AWS's envelope:
 *
 *   { "context": { "MetaWabaIds": [{ "wabaId", "arn" }], "MetaPhoneNumberIds": [{ "metaPhoneNumberId", "arn" }] },
 *     "whatsAppWebhookEntry": "<one Meta entry, as a JSON string>",
 *     "aws_account_id": "…", "message_timestamp": "2025-01-08T23:30:43.271279391Z", "messageId": "…" }
 *
 * This turns it back into the payload Meta would have POSTed (`{object, entry: [entry]}`), so the
 * same parser and ingest path handle both sources. Pure. AWS already verified Meta's signature;
 * the SNS message itself is authenticated by the subscription (Lambda or SQS), not here.
 *
 * Shape: https://docs.aws.amazon.com/social-messaging/latest/userguide/managing-event-destination-dlrs.html
 */
import { WebhookPayloadSchema, describeIssues, type WebhookPayload } from './schema.ts';

/** An SNS message that is not an End User Messaging Social WhatsApp event. */
export class SnsMessageError extends Error {
  override readonly name = 'SnsMessageError';
}

export function webhookPayloadFromSns(snsMessage: string): WebhookPayload {
  let envelope = parse(snsMessage, 'the SNS message');
  // Delivered to SQS without raw message delivery, the message is still inside SNS's notification.
  if (isObject(envelope) && envelope.Type === 'Notification' && typeof envelope.Message === 'string') {
    envelope = parse(envelope.Message, 'the SNS notification Message');
  }
  if (!isObject(envelope)) throw new SnsMessageError('the SNS message is not a JSON object');
  const entryText = envelope.whatsAppWebhookEntry;
  if (typeof entryText !== 'string') {
    throw new SnsMessageError(
      entryText === undefined ? 'the SNS message has no whatsAppWebhookEntry' : `whatsAppWebhookEntry is a ${typeof entryText}, not a JSON string`,
    );
  }
  const entry = parse(entryText, 'whatsAppWebhookEntry');
  const payload = WebhookPayloadSchema.safeParse({ object: 'whatsapp_business_account', entry: [entry] });
  if (!payload.success) throw new SnsMessageError(`whatsAppWebhookEntry is not a WhatsApp webhook entry: ${describeIssues(payload.error)}`);
  return payload.data;
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SnsMessageError(`${what} is not JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
