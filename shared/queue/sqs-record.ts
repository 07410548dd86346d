/**
 * An SQS message as Lambda's event source hands it to a function: the local pollers build their
 * events with it, and the sync's burst turns the jobs it takes from the queue itself into the same
 * records, so every job goes the same ways.
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

export function sqsRecordOf(m: Message, source: { readonly eventSourceARN: string; readonly awsRegion: string }): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: a['SentTimestamp'] ?? String(Date.now()),
      SenderId: a['SenderId'] ?? 'local',
      ApproximateFirstReceiveTimestamp: a['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
      ...(a['MessageGroupId'] && { MessageGroupId: a['MessageGroupId'] }),
      ...(a['MessageDeduplicationId'] && { MessageDeduplicationId: a['MessageDeduplicationId'] }),
      ...(a['SequenceNumber'] && { SequenceNumber: a['SequenceNumber'] }),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: source.eventSourceARN,
    awsRegion: source.awsRegion,
  };
}
