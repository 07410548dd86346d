/**
 * The channel over Meta's WhatsApp Cloud API (Graph API): sends, the template list and the number's
 * health. It only translates: every answer of Meta's becomes a {@link SendResult} (meta-errors.ts
 * decides what a code means), and nothing is retried here except once after a refused token that
 * `onAuthFailure` could renew (OP-5) — Meta refused that request, so it did not send it.
 *
 * What a failure without an answer means is decided by where it happened. A connection that was
 * never made (refused, no DNS, no route) sent nothing: `retry`. A timeout, an abort or a dropped
 * connection after the request left may have sent the message: `outcomeUnknown`, never re-sent
 * blindly; the status webhook, which carries our id in `biz_opaque_callback_data`, settles it.
 * Likewise a 2xx without a message id, and a 5xx that is not Meta's own error body (a proxy's).
 *
 * Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (send answer),
 * https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates
 * (template list, cursor paging), .../whatsapp/support/error-codes/ (error body).
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { redact } from '../../privacy.ts';
import type { SendFailure, SendRequest, SendResult, TemplateInfo, WhatsAppAccountApi, WhatsAppChannel } from './channel.ts';
import { OutboundContentError, messageBody } from './message-body.ts';
import { classifyMetaError } from './meta-errors.ts';
import { parseJson, parseRetryAfter } from '../../http.ts';

export interface CloudApiOptions {
  /** e.g. https://graph.facebook.com (no trailing slash needed). */
  readonly baseUrl: string;
  /** Graph API version, e.g. v24.0. */
  readonly version: string;
  /** Read before every request: a rotated secret is picked up without a restart. */
  readonly accessToken: () => string | Promise<string>;
  readonly fetch?: typeof fetch;
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
  /** Called when Meta refuses the token (401 or code 190): true if a new token was read, then the request is tried once more. */
  readonly onAuthFailure?: () => Promise<boolean>;
}

/** A Graph API call other than a send failed (templates, number health). */
export class MetaApiError extends Error {
  override readonly name = 'MetaApiError';
  constructor(readonly failure: SendFailure) {
    super(`Meta API: ${failure.title}${failure.code ? ` (code ${failure.code})` : ''}`);
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Errors of a connection that was never established: nothing was sent. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** A WABA has at most a few thousand templates: a longer walk is a paging loop. */
const MAX_TEMPLATE_PAGES = 100;

const optionalString = z.optional(z.string());

const SendAnswerSchema = z.looseObject({
  messaging_product: optionalString,
  contacts: z.optional(z.array(z.looseObject({ input: optionalString, wa_id: optionalString, user_id: optionalString }))),
  messages: z.array(z.looseObject({ id: z.string().check(z.minLength(1)), message_status: optionalString })).check(z.minLength(1)),
});

const ErrorAnswerSchema = z.looseObject({
  error: z.looseObject({
    message: optionalString,
    type: optionalString,
    code: z.optional(z.number()),
    error_subcode: z.optional(z.number()),
    // An object for WhatsApp errors; some Graph errors carry a string here.
    error_data: z.optional(z.unknown()),
    fbtrace_id: optionalString,
  }),
});

const TemplatePageSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      id: optionalString,
      name: z.string(),
      language: z.string(),
      status: optionalString,
      category: optionalString,
      parameter_format: optionalString,
      components: z.optional(
        z.array(z.looseObject({ type: z.string(), text: optionalString, buttons: z.optional(z.array(z.looseObject({ type: z.string(), text: optionalString }))) })),
      ),
    }),
  ),
  paging: z.optional(z.looseObject({ cursors: z.optional(z.looseObject({ after: optionalString })), next: optionalString })),
});
type TemplateNode = z.infer<typeof TemplatePageSchema>['data'][number];

const NumberSchema = z.looseObject({ quality_rating: optionalString, display_phone_number: optionalString });

type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown; readonly retryAfterMs: number | undefined; readonly ms: number }
  | { readonly kind: 'failed'; readonly sent: boolean; readonly reason: string };

export class CloudApiChannel implements WhatsAppChannel, WhatsAppAccountApi {
  private readonly root: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: CloudApiOptions) {
    this.root = `${options.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(options.version)}`;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(request: SendRequest, signal?: AbortSignal): Promise<SendResult> {
    let body: Record<string, unknown>;
    try {
      body = messageBody(request);
    } catch (error) {
      // Content Meta would refuse: permanent, and nothing was sent.
      if (error instanceof OutboundContentError) return { ok: false, failure: { kind: 'permanent', code: 0, title: error.message } };
      throw error;
    }
    const outcome = await this.call('POST', `${this.root}/${encodeURIComponent(request.phoneNumberId)}/messages`, body, signal);
    if (outcome.kind === 'failed') {
      return { ok: false, failure: { kind: 'retry', code: 0, title: outcome.reason, outcomeUnknown: outcome.sent || undefined } };
    }
    if (outcome.status >= 200 && outcome.status < 300) {
      const answer = SendAnswerSchema.safeParse(outcome.body);
      if (answer.success) return { ok: true, wamid: answer.data.messages[0]!.id, waId: answer.data.contacts?.[0]?.wa_id };
      return { ok: false, failure: { kind: 'retry', code: 0, title: `Meta answered ${outcome.status} without a message id`, httpStatus: outcome.status, outcomeUnknown: true } };
    }
    return { ok: false, failure: failureOf(outcome) };
  }

  async listTemplates(wabaId: string, signal?: AbortSignal): Promise<TemplateInfo[]> {
    const first = new URL(`${this.root}/${encodeURIComponent(wabaId)}/message_templates`);
    first.searchParams.set('fields', 'name,language,status,category,components,parameter_format');
    first.searchParams.set('limit', '100');
    const templates: TemplateInfo[] = [];
    const visited = new Set<string>();
    let url = first.toString();
    for (;;) {
      visited.add(url);
      const page = TemplatePageSchema.safeParse((await this.get(url, signal)).body);
      if (!page.success) throw new MetaApiError({ kind: 'permanent', code: 0, title: `unexpected template list: ${page.error.issues[0]?.message ?? 'invalid'}` });
      templates.push(...page.data.data.map(templateInfo));
      const next = this.nextPage(first, page.data.paging);
      if (next === undefined) return templates;
      if (visited.has(next) || visited.size >= MAX_TEMPLATE_PAGES) {
        throw new MetaApiError({ kind: 'permanent', code: 0, title: `template paging does not end (${visited.size} pages)` });
      }
      url = next;
    }
  }

  async numberHealth(phoneNumberId: string, signal?: AbortSignal) {
    const url = new URL(`${this.root}/${encodeURIComponent(phoneNumberId)}`);
    url.searchParams.set('fields', 'quality_rating,display_phone_number');
    const { body, ms } = await this.get(url.toString(), signal);
    const number = NumberSchema.safeParse(body);
    return { ms, qualityRating: number.success ? number.data.quality_rating : undefined, displayPhone: number.success ? number.data.display_phone_number : undefined };
  }

  /** The next page of a cursor-paged list, or undefined when Meta gave no `next`. */
  private nextPage(first: URL, paging: { cursors?: { after?: string | undefined } | undefined; next?: string | undefined } | undefined): string | undefined {
    if (!paging?.next) return undefined;
    // Rebuilding the URL from our own keeps the token from going anywhere but baseUrl.
    const after = paging.cursors?.after;
    if (after) {
      const url = new URL(first);
      url.searchParams.set('after', after);
      return url.toString();
    }
    if (URL.canParse(paging.next) && new URL(paging.next).origin === first.origin) return paging.next;
    throw new MetaApiError({ kind: 'permanent', code: 0, title: 'template paging points to another host' });
  }

  /** A GET's body and how long Meta took to answer it; throws {@link MetaApiError} on failure. */
  private async get(url: string, signal: AbortSignal | undefined): Promise<{ body: unknown; ms: number }> {
    const outcome = await this.call('GET', url, undefined, signal);
    if (outcome.kind === 'failed') throw new MetaApiError({ kind: 'retry', code: 0, title: outcome.reason });
    if (outcome.status < 200 || outcome.status >= 300) throw new MetaApiError(failureOf(outcome));
    return { body: outcome.body, ms: outcome.ms };
  }

  /** One request, and once more with a renewed token if Meta refused the first one. */
  private async call(method: 'GET' | 'POST', url: string, body: unknown, signal: AbortSignal | undefined): Promise<Outcome> {
    const first = await this.attempt(method, url, body, signal);
    if (!isTokenRefused(first) || !this.options.onAuthFailure) return first;
    const renewed = await this.options.onAuthFailure().catch(() => false);
    return renewed ? this.attempt(method, url, body, signal) : first;
  }

  private async attempt(method: 'GET' | 'POST', url: string, body: unknown, signal: AbortSignal | undefined): Promise<Outcome> {
    let token: string;
    try {
      token = await this.options.accessToken();
    } catch (error) {
      return { kind: 'failed', sent: false, reason: `the access token could not be read: ${error instanceof Error ? error.message : String(error)}` };
    }
    return this.once(method, url, body, token, signal);
  }

  private async once(method: 'GET' | 'POST', url: string, body: unknown, token: string, signal: AbortSignal | undefined): Promise<Outcome> {
    if (signal?.aborted) return { kind: 'failed', sent: false, reason: 'aborted before the request was sent' };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    try {
      const response = await this.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const text = await response.text();
      const ms = Math.round(performance.now() - started);
      return { kind: 'answer', status: response.status, body: parseJson(text), retryAfterMs: parseRetryAfter(response.headers.get('retry-after')), ms };
    } catch (error) {
      if (timeout.aborted) return { kind: 'failed', sent: true, reason: `no answer from Meta within ${this.timeoutMs} ms` };
      if (signal?.aborted) return { kind: 'failed', sent: true, reason: 'aborted while waiting for Meta' };
      const code = errorCode(error);
      const sent = code === undefined || !NOT_CONNECTED.has(code);
      return { kind: 'failed', sent, reason: sent ? `connection to Meta failed: ${code ?? String(error)}` : `could not connect to Meta: ${code}` };
    }
  }
}

/** A non-2xx answer as a failure: Meta's error body when there is one. */
function failureOf(outcome: Extract<Outcome, { kind: 'answer' }>): SendFailure {
  const { status, retryAfterMs } = outcome;
  const parsed = ErrorAnswerSchema.safeParse(outcome.body);
  if (!parsed.success) {
    const failure = classifyMetaError({ httpStatus: status, retryAfterMs });
    // A 5xx that is not Meta's API answering (a gateway's) may have reached Meta.
    return status >= 500 ? { ...failure, outcomeUnknown: true } : failure;
  }
  const { code, error_subcode: subcode, message, error_data: data } = parsed.data.error;
  const details = typeof data === 'object' && data !== null && typeof (data as { details?: unknown }).details === 'string' ? (data as { details: string }).details : undefined;
  // "(#131047) Re-engagement message": the code is kept apart; the text may echo personal data.
  const text = [message?.replace(/^\(#\d+\)\s*/, ''), details].filter((t): t is string => !!t && t.trim() !== '').join(': ');
  return classifyMetaError({ httpStatus: status, code, subcode, title: text ? redact(text) : undefined, retryAfterMs });
}

function isTokenRefused(outcome: Outcome): boolean {
  if (outcome.kind !== 'answer') return false;
  if (outcome.status === 401) return true;
  const parsed = ErrorAnswerSchema.safeParse(outcome.body);
  return parsed.success && parsed.data.error.code === 190;
}

function templateInfo(t: TemplateNode): TemplateInfo {
  const parameterFormat = t.parameter_format?.toLowerCase() === 'named' ? 'named' : 'positional';
  const bodyText = t.components?.find((c) => c.type.toUpperCase() === 'BODY')?.text ?? '';
  const names = [...bodyText.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]!);
  const bodyParameters = [...new Set(names.filter((n) => (parameterFormat === 'positional' ? /^\d+$/.test(n) : !/^\d+$/.test(n))))];
  const quickReplies = (t.components ?? [])
    .filter((c) => c.type.toUpperCase() === 'BUTTONS')
    .flatMap((c) => c.buttons ?? [])
    .filter((b) => b.type.toUpperCase() === 'QUICK_REPLY' && b.text !== undefined)
    .map((b) => b.text!);
  return {
    name: t.name,
    language: t.language,
    status: t.status ?? 'UNKNOWN',
    category: t.category ?? 'UNKNOWN',
    parameterFormat,
    bodyParameters,
    quickReplies,
    id: t.id,
  };
}

/** The system error code of a failed fetch (undici puts it on `cause`, sometimes inside an AggregateError). */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0]);
  }
  return undefined;
}


