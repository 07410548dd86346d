import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessDeniedByMetaException,
  AccessDeniedException,
  DependencyException,
  InternalServiceException,
  ResourceNotFoundException,
  type SendWhatsAppMessageCommand,
  SocialMessagingClient,
  ThrottledRequestException,
  ValidationException,
} from '@aws-sdk/client-socialmessaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendRequest } from '#shared/whatsapp/outbound/channel';
import { messageBody } from '#shared/whatsapp/outbound/message-body';
import { SocialMessagingChannel, awsFailure, metaCodeIn, type SocialMessagingSender } from '#shared/whatsapp/outbound/social-messaging';

const REQUEST: SendRequest = {
  phoneNumberId: '106540352242922',
  to: { bsuid: 'US.13491208655302741918' },
  content: { type: 'template', name: 'order_update', language: 'en_US', parameters: ['Ada'] },
  callbackData: 'out#01HZX',
};
const ORIGINATION = 'phone-number-id-976c72a700aac43eaf573ae050example';
const $metadata = { httpStatusCode: 400, requestId: 'r-1' };

/** A client that records the commands it is given and answers from `answer`. */
function fakeClient(answer: (command: SendWhatsAppMessageCommand) => Promise<{ messageId?: string }>) {
  const commands: SendWhatsAppMessageCommand[] = [];
  const client: SocialMessagingSender = {
    send: async (command) => {
      commands.push(command);
      return { ...(await answer(command)), $metadata: { httpStatusCode: 200 } };
    },
  };
  return { client, commands };
}

function channel(client: SocialMessagingSender, timeoutMs = 2000) {
  return new SocialMessagingChannel({ originationIds: { '106540352242922': ORIGINATION }, metaApiVersion: 'v24.0', client, timeoutMs });
}

const failing = (error: unknown) => fakeClient(() => Promise.reject(error));

describe('sending through End User Messaging Social', () => {
  it('sends the Meta JSON as bytes from the AWS origination id of the Meta number', async () => {
    const { client, commands } = fakeClient(async () => ({ messageId: 'wamid.HBgLMTIzNDU2Nzg5FQIAERgS' }));
    expect(await channel(client).send(REQUEST)).toEqual({ ok: true, wamid: 'wamid.HBgLMTIzNDU2Nzg5FQIAERgS' });
    const input = commands[0]!.input;
    expect(input.originationPhoneNumberId).toBe(ORIGINATION);
    expect(input.metaApiVersion).toBe('v24.0');
    expect(input.message).toBeInstanceOf(Uint8Array);
    const sent = JSON.parse(new TextDecoder().decode(input.message)) as Record<string, unknown>;
    expect(sent).toEqual(messageBody(REQUEST));
    expect(sent).toMatchObject({ recipient: 'US.13491208655302741918', biz_opaque_callback_data: 'out#01HZX' });
    expect(sent).not.toHaveProperty('to');
  });

  it('refuses a number with no configured origination id without calling AWS', async () => {
    const { client, commands } = fakeClient(async () => ({ messageId: 'x' }));
    const result = await channel(client).send({ ...REQUEST, phoneNumberId: '999' });
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'permanent', code: 0 }) });
    expect(commands).toHaveLength(0);
  });

  it('refuses content Meta would refuse without calling AWS', async () => {
    const { client, commands } = fakeClient(async () => ({ messageId: 'x' }));
    const result = await channel(client).send({ ...REQUEST, content: { type: 'text', text: '' } });
    expect(result).toEqual({ ok: false, failure: { kind: 'permanent', code: 0, title: 'content.text: must not be empty' } });
    expect(commands).toHaveLength(0);
  });

  it.each([
    ['ThrottledRequestException', new ThrottledRequestException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }), 'retry'],
    ['ValidationException', new ValidationException({ message: 'Invalid message', $metadata }), 'permanent'],
    ['AccessDeniedException', new AccessDeniedException({ message: 'not authorized to perform social-messaging:SendWhatsAppMessage', $metadata: { httpStatusCode: 403 } }), 'auth'],
    ['AccessDeniedByMetaException', new AccessDeniedByMetaException({ message: 'Meta denied access', $metadata: { httpStatusCode: 403 } }), 'auth'],
    ['DependencyException', new DependencyException({ message: 'dependency failed', $metadata: { httpStatusCode: 502 } }), 'retry'],
    ['InternalServiceException', new InternalServiceException({ message: 'internal error', $metadata: { httpStatusCode: 500 } }), 'retry'],
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'no such phone number id', $metadata: { httpStatusCode: 404 } }), 'permanent'],
  ] as const)('maps %s to %s', async (name, error, kind) => {
    const result = await channel(failing(error).client).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ kind, code: 0, title: expect.stringContaining(name) }) });
  });

  it.each([
    ['(#131047) Re-engagement message', 131047, 'window_closed'],
    ['(#131050) Unable to deliver message', 131050, 'opted_out'],
    ['(#131062) Business-scoped User ID recipients are not supported', 131062, 'bsuid_not_allowed'],
    ['Meta returned error code: 132001 template does not exist', 132001, 'template'],
    ['(#130429) Rate limit hit', 130429, 'retry'],
  ] as const)('lets Meta’s code in the exception text decide: "%s"', async (message, code, kind) => {
    const result = await channel(failing(new ValidationException({ message, $metadata })).client).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ kind, code, httpStatus: 400 }) });
  });

  it('reads a code after the word "code" only when it is one Meta documents', () => {
    expect(metaCodeIn('status code 429 from upstream')).toBeUndefined();
    expect(metaCodeIn('error code 131026: undeliverable')).toBe(131026);
    expect(metaCodeIn('(#100) Invalid parameter')).toBe(100);
  });

  it('maps an unknown service exception by its fault, and a dropped connection as outcome unknown', () => {
    expect(awsFailure({ name: 'SomethingNew', message: 'x', $fault: 'server', $metadata: { httpStatusCode: 503 } }).kind).toBe('retry');
    expect(awsFailure({ name: 'SomethingNew', message: 'x', $fault: 'client', $metadata: { httpStatusCode: 400 } }).kind).toBe('permanent');
    expect(awsFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ kind: 'retry', outcomeUnknown: true });
    expect(awsFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).outcomeUnknown).toBeUndefined();
  });

  it('reports a slow answer as a timeout whose outcome is unknown, aborting the SDK call', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    // Like the SDK: never answers, and rejects once its abort signal fires.
    const slow: SocialMessagingSender = {
      send: (_command, options) =>
        new Promise((_, reject) => {
          signals.push(options?.abortSignal);
          options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
        }),
    };
    const result = await channel(slow, 100).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'no answer from AWS within 100 ms', outcomeUnknown: true } });
    expect(signals[0]?.aborted).toBe(true);
  });

  it('does not call AWS with a signal that is already aborted', async () => {
    const { client, commands } = fakeClient(async () => ({ messageId: 'x' }));
    expect(await channel(client).send(REQUEST, AbortSignal.abort())).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'aborted before the request was sent' } });
    expect(commands).toHaveLength(0);
  });

  it('treats an answer without a message id as possibly sent', async () => {
    const { client } = fakeClient(async () => ({}));
    expect(await channel(client).send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', outcomeUnknown: true }) });
  });
});

describe('with the real SDK client over HTTP', () => {
  let server: Server;
  let endpoint: string;
  let answer: { status: number; headers: Record<string, string>; body: unknown };
  const bodies: unknown[] = [];
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        paths.push(`${req.method} ${req.url}`);
        bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sdkChannel = () =>
    channel(new SocialMessagingClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, maxAttempts: 1 }));

  it('is a client the channel accepts, posting the base64 message to /v1/whatsapp/send', async () => {
    answer = { status: 200, headers: {}, body: { messageId: 'wamid.REAL' } };
    expect(await sdkChannel().send(REQUEST)).toEqual({ ok: true, wamid: 'wamid.REAL' });
    expect(paths.at(-1)).toBe('POST /v1/whatsapp/send');
    const body = bodies.at(-1) as { message: string; originationPhoneNumberId: string; metaApiVersion: string };
    expect(body.originationPhoneNumberId).toBe(ORIGINATION);
    expect(body.metaApiVersion).toBe('v24.0');
    expect(JSON.parse(Buffer.from(body.message, 'base64').toString('utf8'))).toEqual(messageBody(REQUEST));
  });

  it('turns AWS’s error answer into a failure, once, without the SDK retrying', async () => {
    const before = paths.length;
    answer = { status: 429, headers: { 'x-amzn-errortype': 'ThrottledRequestException' }, body: { message: 'Rate exceeded' } };
    expect(await sdkChannel().send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', httpStatus: 429 }) });
    answer = { status: 400, headers: { 'x-amzn-errortype': 'ValidationException' }, body: { message: '(#131047) Re-engagement message' } };
    expect(await sdkChannel().send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'window_closed', code: 131047 }) });
    expect(paths.length - before).toBe(2);
  });

  it('builds its own client without SDK retries when none is given', async () => {
    const own = new SocialMessagingChannel({ originationIds: {}, metaApiVersion: 'v24.0', region: 'us-east-1' });
    const client = (own as unknown as { client: SocialMessagingClient }).client;
    expect(await client.config.maxAttempts()).toBe(1);
  });
});
