/**
 * Status webhooks of the local Graph API: Meta's payloads, signed and posted like Meta posts them.
 *
 * Shape: status messages webhook reference
 * (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/)
 * and its BSUID changes (https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids,
 * "Status messages webhooks"):
 * - `statuses[]`: id, status, timestamp (epoch seconds as a string), biz_opaque_callback_data when
 *   the send had it; `recipient_id` = the phone when sent to a phone (omitted for a BSUID send
 *   unless the phone may be shown); `recipient_user_id` = the BSUID when sent to a BSUID, otherwise
 *   omitted (the prose says so; one example of that page shows it on a phone send too).
 * - `pricing` {billable, pricing_model "PMP", type, category} only on `sent` and one of
 *   `delivered`/`read` (here: `delivered`); never on `failed`. `billable` is true only for type
 *   `regular` (it "indicates if the message is billable"; documented as going away).
 * - `conversation` is omitted from v24.0 on unless the message is in a free entry point window:
 *   it is sent only for pricing type `free_entry_point` (id unique per window, expiration on `sent`).
 * - `contacts` (profile, wa_id, user_id) on sent, delivered and read; omitted on `failed`;
 *   `profile.username` never on `sent`.
 * - `failed`: `errors[{code,title,message,error_data:{details},href}]`.
 * Signed with X-Hub-Signature-256 (HMAC-SHA256 of the body with the app secret).
 * Meta retries a delivery that is not answered 2xx (for days, less and less often); here a few
 * times, quickly.
 */
import { signBody } from '#shared/whatsapp/signature';

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed';
export type PricingType = 'regular' | 'free_customer_service' | 'free_entry_point';

export interface StatusBusiness {
  readonly wabaId: string;
  readonly phoneNumberId: string;
  readonly displayPhone: string;
}

/** Who the message went to, as Meta may show them. */
export interface StatusRecipient {
  /** The phone (digits), when it may be shown. */
  readonly waId?: string | undefined;
  readonly bsuid: string;
  /** True when the send addressed the BSUID (`recipient`), false for `to`. */
  readonly sentToBsuid: boolean;
  readonly name?: string | undefined;
  readonly username?: string | undefined;
}

export interface StatusEvent {
  readonly wamid: string;
  readonly status: StatusName;
  readonly atMs: number;
  readonly callbackData?: string | undefined;
  readonly pricing?: { readonly category: string; readonly type: PricingType } | undefined;
  /** Set for pricing type free_entry_point. */
  readonly conversation?: { readonly id: string; readonly expiresAtMs: number } | undefined;
  readonly errors?: readonly unknown[] | undefined;
}

const seconds = (ms: number) => String(Math.floor(ms / 1000));

export function statusPayload(business: StatusBusiness, recipient: StatusRecipient, event: StatusEvent) {
  const failed = event.status === 'failed';
  const withPricing = event.status === 'sent' || event.status === 'delivered';
  const profile = {
    ...(recipient.name && { name: recipient.name }),
    ...(recipient.username && event.status !== 'sent' && { username: recipient.username }),
  };
  const contact = {
    ...(Object.keys(profile).length > 0 && { profile }),
    ...(recipient.waId && { wa_id: recipient.waId }),
    user_id: recipient.bsuid,
  };
  const status = {
    id: event.wamid,
    status: event.status,
    timestamp: seconds(event.atMs),
    ...(recipient.waId && { recipient_id: recipient.waId }),
    ...(recipient.sentToBsuid && { recipient_user_id: recipient.bsuid }),
    ...(event.callbackData !== undefined && { biz_opaque_callback_data: event.callbackData }),
    ...(!failed &&
      event.conversation && {
        conversation: {
          id: event.conversation.id,
          ...(event.status === 'sent' && { expiration_timestamp: seconds(event.conversation.expiresAtMs) }),
          origin: { type: 'referral_conversion' },
        },
      }),
    ...(!failed &&
      withPricing &&
      event.pricing && {
        pricing: {
          billable: event.pricing.type === 'regular',
          pricing_model: 'PMP',
          type: event.pricing.type,
          category: event.pricing.category,
        },
      }),
    ...(failed && { errors: event.errors ?? [] }),
  };
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: business.displayPhone, phone_number_id: business.phoneNumberId },
              ...(!failed && { contacts: [contact] }),
              statuses: [status],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

export interface DeliveryResult {
  readonly attempts: number;
  readonly delivered: boolean;
  /** The last HTTP status answered (none after a network error). */
  readonly httpStatus?: number | undefined;
}

/** POSTs the payload signed, retrying after each delay while the answer is not 2xx. */
export async function postSigned(
  url: string,
  payload: unknown,
  appSecret: string,
  retryDelaysMs: readonly number[],
  signal: AbortSignal,
): Promise<DeliveryResult> {
  const raw = JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'facebookexternalua',
    'x-hub-signature-256': signBody(raw, appSecret),
  };
  let attempts = 0;
  let httpStatus: number | undefined;
  for (const delay of [0, ...retryDelaysMs]) {
    if (delay > 0) await sleep(delay, signal);
    if (signal.aborted) break;
    attempts++;
    try {
      const response = await fetch(url, { method: 'POST', headers, body: raw, signal });
      httpStatus = response.status;
      await response.arrayBuffer();
      if (response.ok) return { attempts, delivered: true, httpStatus };
    } catch {
      httpStatus = undefined;
      if (signal.aborted) break;
    }
  }
  return { attempts, delivered: false, httpStatus };
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
