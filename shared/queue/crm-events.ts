/**
 * The crm-events queue's own messages (SY-3): stored CRM events, in envelopes under SQS's
 * 256 KiB limit. The receivers and the scheduled catch-up send them; Salesforce's Event Relay
 * events arrive on the same queue as EventBridge puts them there.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CrmEvent } from '../crm/two-way.ts';
import type { CrmKind } from '../resources.ts';

export interface CrmEventsEnvelope {
  readonly v: 1;
  readonly crm: CrmKind;
  readonly events: readonly CrmEvent[];
}

const MAX_ENVELOPE_BYTES = 200 * 1024;

export function* envelopes(crm: CrmKind, events: readonly CrmEvent[]): Generator<CrmEventsEnvelope> {
  let part: CrmEvent[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = Buffer.byteLength(JSON.stringify(event));
    if (part.length && size + bytes > MAX_ENVELOPE_BYTES) {
      yield { v: 1, crm, events: part };
      part = [];
      size = 0;
    }
    part.push(event);
    size += bytes;
  }
  if (part.length) yield { v: 1, crm, events: part };
}

/** Sends events to the crm-events queue. */
export function crmEventsSender(sqs: SQSClient, queueUrl: string) {
  return async (crm: CrmKind, events: readonly CrmEvent[]): Promise<void> => {
    for (const part of envelopes(crm, events)) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(part) }));
  };
}
