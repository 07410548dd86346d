/**
 * The channel port: how the send path talks to WhatsApp, whatever carries the message (Meta's
 * Cloud API, or AWS End User Messaging Social for an account linked to it — IN-7). The send path
 * (functions/send) decides on the result; the adapters only translate.
 *
 * A failure is a value, never a throw: Meta's `error.code` is mapped once (meta-errors.ts) to what
 * the send path does with it. A request whose fate is unknown (a timeout or a dropped connection
 * after the request left) is `outcomeUnknown`: Meta may have sent it, so it is never re-sent
 * blindly; the status webhook (which carries our id in `biz_opaque_callback_data`) settles it.
 */

/** Who receives the message: a phone (E.164, `+` and digits) is addressed by `to`; a BSUID by `recipient`. */
export type Address = { readonly phone: string; readonly bsuid?: undefined } | { readonly bsuid: string; readonly phone?: undefined };

export type TemplateParameters = readonly string[] | Readonly<Record<string, string>>;

export type OutboundContent =
  | { readonly type: 'text'; readonly text: string; readonly previewUrl?: boolean | undefined }
  | {
      readonly type: 'template';
      readonly name: string;
      readonly language: string;
      /** Body parameters: positional (`{{1}}`, …) as a list, named (`{{first_name}}`) as an object. */
      readonly parameters?: TemplateParameters | undefined;
    }
  | {
      readonly type: 'buttons';
      readonly body: string;
      /** 1–3 reply buttons (Meta's limit), ids ≤ 256 characters, titles ≤ 20. */
      readonly buttons: readonly { readonly id: string; readonly title: string }[];
      readonly header?: string | undefined;
      readonly footer?: string | undefined;
    }
  | {
      readonly type: 'list';
      readonly body: string;
      /** The button that opens the list (≤ 20 characters). */
      readonly button: string;
      /** ≤ 10 sections, ≤ 10 rows in all. */
      readonly sections: readonly {
        readonly title?: string | undefined;
        readonly rows: readonly { readonly id: string; readonly title: string; readonly description?: string | undefined }[];
      }[];
      readonly header?: string | undefined;
      readonly footer?: string | undefined;
    }
  | {
      readonly type: 'image' | 'document';
      /** Exactly one of a media id (uploaded to Meta) and a public https link. */
      readonly mediaId?: string | undefined;
      readonly link?: string | undefined;
      readonly caption?: string | undefined;
      /** Documents only. */
      readonly filename?: string | undefined;
    };

export interface SendRequest {
  /** The business number that sends (its Cloud API id). */
  readonly phoneNumberId: string;
  readonly to: Address;
  readonly content: OutboundContent;
  /** Our outbound id: sent as `biz_opaque_callback_data` so that status webhooks find our row. */
  readonly callbackData: string;
  /** The customer's message this one answers (shown quoted in WhatsApp). */
  readonly replyTo?: string | undefined;
}

/** What the send path does with a failure (from Meta's code; see meta-errors.ts). */
export type FailureKind =
  /** 130429, 131056, 4, 80007, 1, 2, 131000, 5xx, 429: retried with backoff (AU-7: twice). */
  | 'retry'
  /** 131047: the 24 h window is closed; only a template can reach the customer. Not retried. */
  | 'window_closed'
  /** 131026: the number cannot receive; repeated hits suppress the recipient. */
  | 'undeliverable'
  /** 131049: Meta's per-user marketing cap; that customer's marketing waits ≥ 24 h. */
  | 'marketing_cap'
  /** 131050: the customer stopped marketing messages; consent becomes opted out. */
  | 'opted_out'
  /** 131048: spam rate limit; slow down and alarm. */
  | 'spam_limit'
  /** 132000, 132001, 132015, 132016 (and 132005, 132007, 132012): a template problem; permanent, with the reason. */
  | 'template'
  /** 190: the access token is refused (OP-5). */
  | 'auth'
  /** 131042 (payment), 368 (policy block), 131031 (account locked): stop sending for the account and alarm. */
  | 'account_blocked'
  /** 131062: an authentication template cannot go to a BSUID. */
  | 'bsuid_not_allowed'
  /** Any other 4xx: the request itself is wrong; permanent. */
  | 'permanent';

export interface SendFailure {
  readonly kind: FailureKind;
  /** Meta's `error.code` (0 when the failure is not Meta's, e.g. a network error). */
  readonly code: number;
  readonly subcode?: number | undefined;
  /** Meta's `error.message` / `error_data.details`, or a description of a local failure. */
  readonly title: string;
  readonly httpStatus?: number | undefined;
  /** Wait asked for (Retry-After), when given. */
  readonly retryAfterMs?: number | undefined;
  /** True when the request may have reached Meta: never re-sent blindly. */
  readonly outcomeUnknown?: boolean | undefined;
}

export type SendResult =
  | { readonly ok: true; readonly wamid: string; /** `contacts[0].wa_id` when Meta gave one. */ readonly waId?: string | undefined }
  | { readonly ok: false; readonly failure: SendFailure };

export interface WhatsAppChannel {
  /** Sends one message. Never throws for Meta's answers or network failures: see {@link SendResult}. */
  send(request: SendRequest, signal?: AbortSignal): Promise<SendResult>;
}

/** A message template as Meta lists it (`GET /{WABA-ID}/message_templates`). */
export interface TemplateInfo {
  readonly name: string;
  readonly language: string;
  /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … */
  readonly status: string;
  readonly category: string;
  /** `positional` ({{1}}) or `named` ({{first_name}}). */
  readonly parameterFormat: 'positional' | 'named';
  /** The body's parameters: `['1','2']` for positional, names for named. */
  readonly bodyParameters: readonly string[];
  /** Quick-reply button texts, in order (an opt-out button is configured by its text). */
  readonly quickReplies: readonly string[];
  readonly id?: string | undefined;
}

/** The Graph API calls that are not sends: templates and number health (OP-2). */
export interface WhatsAppAccountApi {
  /** Every template of a WABA (all pages). */
  listTemplates(wabaId: string, signal?: AbortSignal): Promise<TemplateInfo[]>;
  /** `GET /{phone_number_id}`: how long it took and the number's quality rating. Throws on failure. */
  numberHealth(phoneNumberId: string, signal?: AbortSignal): Promise<{ readonly ms: number; readonly qualityRating?: string | undefined; readonly displayPhone?: string | undefined }>;
}
