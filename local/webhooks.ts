/**
 * Builders of realistic WhatsApp Cloud API webhook deliveries (Graph API v24+ shapes, with the
 * 2026 identity fields) and a signed sender. Used by the simulator, the tests and the bench.
 */
import { signBody } from '#shared/whatsapp/signature';

export interface Customer {
  /** Phone as WhatsApp sends it in wa_id/from (digits with country code); omitted when not shared. */
  readonly waId?: string;
  readonly bsuid: string;
  readonly parentBsuid?: string;
  readonly name?: string;
  readonly username?: string;
}

export interface Business {
  readonly wabaId: string;
  readonly phoneNumberId: string;
  readonly displayPhone: string;
}

export const DEFAULT_BUSINESS: Business = { wabaId: '102290129340398', phoneNumberId: '106540352242922', displayPhone: '85230012345' };

let counter = 0;
/** A wamid shaped like Meta's (base64 of an opaque id). */
export function newWamid(seed = `${Date.now()}-${++counter}-${Math.random()}`): string {
  return `wamid.${Buffer.from(`HBgL${seed}`).toString('base64').replace(/=+$/, '')}`;
}

const seconds = (ms: number) => String(Math.floor(ms / 1000));

function contactOf(c: Customer) {
  return {
    profile: { ...(c.name && { name: c.name }), ...(c.username && { username: c.username }) },
    ...(c.waId && { wa_id: c.waId }),
    user_id: c.bsuid,
    ...(c.parentBsuid && { parent_user_id: c.parentBsuid }),
  };
}

function senderOf(c: Customer) {
  return {
    ...(c.waId && { from: c.waId }),
    from_user_id: c.bsuid,
    ...(c.parentBsuid && { from_parent_user_id: c.parentBsuid }),
  };
}

export function envelope(business: Business, value: Record<string, unknown>, field = 'messages') {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.wabaId,
        changes: [
          {
            field,
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: business.displayPhone, phone_number_id: business.phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

/** Any inbound message: `content` is the type-specific part, e.g. `{ type: 'text', text: { body } }`. */
export function inboundMessage(
  customer: Customer,
  content: Record<string, unknown> & { type: string },
  options: { wamid?: string; at?: number; business?: Business } = {},
) {
  return envelope(options.business ?? DEFAULT_BUSINESS, {
    contacts: [contactOf(customer)],
    messages: [{ ...senderOf(customer), id: options.wamid ?? newWamid(), timestamp: seconds(options.at ?? Date.now()), ...content }],
  });
}

export function textMessage(customer: Customer, body: string, options: { wamid?: string; at?: number; business?: Business } = {}) {
  return inboundMessage(customer, { type: 'text', text: { body } }, options);
}

/** `user_changed_number`: old phone in `from`, new phone and BSUID in `system`. No contacts[]. */
export function numberChange(customer: Customer, newWaId: string, newBsuid: string, options: { wamid?: string; at?: number; business?: Business } = {}) {
  return envelope(options.business ?? DEFAULT_BUSINESS, {
    messages: [
      {
        ...(customer.waId && { from: customer.waId }),
        id: options.wamid ?? newWamid(),
        timestamp: seconds(options.at ?? Date.now()),
        type: 'system',
        system: {
          body: `${customer.name ?? 'User'} changed from ${customer.waId ?? 'a number'} to ${newWaId}`,
          type: 'user_changed_number',
          wa_id: newWaId,
          user_id: newBsuid,
          previous_user_id: customer.bsuid,
        },
      },
    ],
  });
}

export function statusUpdate(
  wamid: string,
  status: 'sent' | 'delivered' | 'read' | 'failed',
  recipient: { waId?: string; bsuid?: string },
  options: { at?: number; business?: Business; error?: { code: number; title: string } } = {},
) {
  return envelope(options.business ?? DEFAULT_BUSINESS, {
    statuses: [
      {
        id: wamid,
        status,
        timestamp: seconds(options.at ?? Date.now()),
        ...(recipient.waId && { recipient_id: recipient.waId }),
        ...(recipient.bsuid && { recipient_user_id: recipient.bsuid }),
        ...(status !== 'failed' && { pricing: { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' } }),
        ...(options.error && { errors: [{ code: options.error.code, title: options.error.title, message: options.error.title }] }),
      },
    ],
  });
}

/** POSTs a delivery signed as Meta would. */
export async function deliver(webhookUrl: string, payload: unknown, appSecret: string): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, appSecret) },
    body,
  });
}
