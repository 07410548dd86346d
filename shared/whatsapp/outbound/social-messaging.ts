/**
 * The channel over AWS End User Messaging Social (IN-7): for a WhatsApp account linked to AWS,
 * `SendWhatsAppMessage` carries the same Meta message JSON (messageBody) to Meta, signed with the
 * function's IAM role instead of a Meta token. AWS names the sending number by its own id
 * (`phone-number-id-…`), so the Meta phone_number_id of the request is mapped by `originationIds`.
 *
 * AWS answers with exceptions; each becomes a {@link SendFailure}. When the exception's text
 * carries Meta's code (`(#131047) …`), Meta's code decides (meta-errors.ts), as on the Cloud API;
 * otherwise the exception's name does. The client made here never retries by itself
 * (`maxAttempts: 1`): a send the SDK re-sent after a timeout could reach the customer twice; the
 * send path decides on retries. A timeout or an abort after the request left is `outcomeUnknown`.
 *
 * Shapes: https://docs.aws.amazon.com/social-messaging/latest/APIReference/API_SendWhatsAppMessage.html
 * (and the installed @aws-sdk/client-socialmessaging types).
 */
import { SendWhatsAppMessageCommand, SocialMessagingClient, type SendWhatsAppMessageCommandOutput } from '@aws-sdk/client-socialmessaging';
import { redact } from '../../privacy.ts';
import type { FailureKind, SendFailure, SendRequest, SendResult, WhatsAppChannel } from './channel.ts';
import { OutboundContentError, messageBody } from './message-body.ts';
import { META_ERROR_KINDS, classifyMetaError } from './meta-errors.ts';

/** What is used of the SDK client (a test passes its own). */
export interface SocialMessagingSender {
  send(command: SendWhatsAppMessageCommand, options?: { abortSignal?: AbortSignal }): Promise<SendWhatsAppMessageCommandOutput>;
}

export interface SocialMessagingOptions {
  /** Meta phone_number_id → AWS origination id (`phone-number-id-…`), for every number sent from. */
  readonly originationIds: Readonly<Record<string, string>>;
  /** Meta's Graph API version AWS calls, e.g. v24.0. */
  readonly metaApiVersion: string;
  /** Default: a SocialMessagingClient with `maxAttempts: 1` in `region` (or the environment's). */
  readonly client?: SocialMessagingSender;
  readonly region?: string;
  /** Per send; default 10 s. */
  readonly timeoutMs?: number;
}

/** AWS's exceptions for SendWhatsAppMessage, by name. */
export const AWS_ERROR_KINDS: Readonly<Record<string, FailureKind>> = Object.freeze({
  ThrottledRequestException: 'retry',
  LimitExceededException: 'retry',
  DependencyException: 'retry',
  InternalServiceException: 'retry',
  ValidationException: 'permanent',
  InvalidParametersException: 'permanent',
  ResourceNotFoundException: 'permanent',
  AccessDeniedException: 'auth',
  AccessDeniedByMetaException: 'auth',
});

const DEFAULT_TIMEOUT_MS = 10_000;
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class SocialMessagingChannel implements WhatsAppChannel {
  private readonly client: SocialMessagingSender;
  private readonly timeoutMs: number;

  constructor(private readonly options: SocialMessagingOptions) {
    this.client = options.client ?? new SocialMessagingClient({ ...(options.region ? { region: options.region } : {}), maxAttempts: 1 });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(request: SendRequest, signal?: AbortSignal): Promise<SendResult> {
    const originationPhoneNumberId = this.options.originationIds[request.phoneNumberId];
    if (!originationPhoneNumberId) {
      return { ok: false, failure: { kind: 'permanent', code: 0, title: `no AWS origination id is configured for phone number id ${request.phoneNumberId}` } };
    }
    let message: Uint8Array;
    try {
      message = new TextEncoder().encode(JSON.stringify(messageBody(request)));
    } catch (error) {
      if (error instanceof OutboundContentError) return { ok: false, failure: { kind: 'permanent', code: 0, title: error.message } };
      throw error;
    }
    if (signal?.aborted) return { ok: false, failure: { kind: 'retry', code: 0, title: 'aborted before the request was sent' } };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const command = new SendWhatsAppMessageCommand({ originationPhoneNumberId, message, metaApiVersion: this.options.metaApiVersion });
      const output = await this.client.send(command, { abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (output.messageId) return { ok: true, wamid: output.messageId };
      return { ok: false, failure: { kind: 'retry', code: 0, title: 'AWS answered without a message id', outcomeUnknown: true } };
    } catch (error) {
      if (timeout.aborted) return { ok: false, failure: { kind: 'retry', code: 0, title: `no answer from AWS within ${this.timeoutMs} ms`, outcomeUnknown: true } };
      if (signal?.aborted) return { ok: false, failure: { kind: 'retry', code: 0, title: 'aborted while waiting for AWS', outcomeUnknown: true } };
      return { ok: false, failure: awsFailure(error) };
    }
  }
}

/** An exception of the SDK's as a failure: Meta's code when its text has one, else AWS's name. */
export function awsFailure(error: unknown): SendFailure {
  const e = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const text = typeof e.message === 'string' ? e.message : String(error);
  const httpStatus = e.$metadata?.httpStatusCode;
  const title = redact(`${name}: ${text}`);
  const metaCode = metaCodeIn(text);
  if (metaCode !== undefined) return classifyMetaError({ httpStatus, code: metaCode, title });
  const known = AWS_ERROR_KINDS[name];
  if (known) return { kind: known, code: 0, title, httpStatus };
  if (e.$metadata === undefined) {
    // No answer from AWS at all: only a connection never made is known not to have sent.
    const notSent = typeof e.code === 'string' && NOT_CONNECTED.has(e.code);
    return { kind: 'retry', code: 0, title, outcomeUnknown: notSent ? undefined : true };
  }
  const serverFault = e.$fault === 'server' || (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429));
  return { kind: serverFault ? 'retry' : 'permanent', code: 0, title, httpStatus };
}

/**
 * Meta's code in an exception's text: Graph's `(#131047)` form, or a code of the table after the
 * word "code" (a loose match is trusted only for codes whose meaning is known).
 */
export function metaCodeIn(text: string): number | undefined {
  const graph = /\(#(\d{1,6})\)/.exec(text);
  if (graph) return Number(graph[1]);
  for (const m of text.matchAll(/\bcode\W{0,3}(\d{1,6})\b/gi)) {
    const code = Number(m[1]);
    if (META_ERROR_KINDS[code]) return code;
  }
  return undefined;
}
