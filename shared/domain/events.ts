/**
 * What a webhook delivery means for the business, independent of Meta's wire format. The
 * WhatsApp parser (shared/whatsapp/inbound.ts) produces these; a second source (AWS End User
 * Messaging Social, IN-7) is another parser producing the same events.
 */
import type { NormalisedPhone } from '../phone.ts';

/** The business number a message arrived on (IN-6). */
export interface AccountRef {
  /** WhatsApp Business Account id (the webhook entry id). */
  readonly wabaId: string;
  readonly phoneNumberId: string;
  readonly displayPhone?: string | undefined;
}

/** Who the customer is, as far as this delivery tells (whatsapp-identity.md). */
export interface CustomerRef {
  readonly bsuid?: string | undefined;
  readonly parentBsuid?: string | undefined;
  readonly phone?: NormalisedPhone | undefined;
  readonly username?: string | undefined;
  readonly profileName?: string | undefined;
}

export const MESSAGE_TYPES = [
  'text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts',
  'interactive', 'button', 'reaction', 'order', 'system', 'request_welcome', 'unsupported',
] as const;
export type KnownMessageType = (typeof MESSAGE_TYPES)[number];

export interface MediaRef {
  readonly kind: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  readonly mediaId: string;
  readonly mimeType?: string | undefined;
  readonly sha256?: string | undefined;
  readonly filename?: string | undefined;
}

/** A customer's identities moving: a number change or a new BSUID. History stays with the contact. */
export interface IdentityChange {
  readonly reason: 'user_changed_number' | 'user_changed_user_id' | 'user_id_update';
  readonly newPhone?: NormalisedPhone | undefined;
  readonly newBsuid?: string | undefined;
  readonly previousBsuid?: string | undefined;
}

export interface InboundMessage {
  readonly kind: 'message';
  readonly wamid: string;
  readonly account: AccountRef;
  /** When the customer sent it (ms since epoch; Meta sends seconds). */
  readonly sentAt: number;
  /** Meta's type as sent; `knownType` is false for a type this version does not know. */
  readonly type: string;
  readonly knownType: boolean;
  readonly customer: CustomerRef;
  /** Plain-text rendering for people and the CRM: body, caption, button title, or a description. */
  readonly summary: string;
  /** The customer's own words, when the message has any (text, caption, reply title). */
  readonly text?: string | undefined;
  readonly media?: MediaRef | undefined;
  /** Click-to-WhatsApp ad referral: the lead source (ID-2). */
  readonly referral?: { readonly sourceId?: string | undefined; readonly sourceType?: string | undefined; readonly sourceUrl?: string | undefined; readonly headline?: string | undefined } | undefined;
  /** The message this one replies to. */
  readonly replyTo?: string | undefined;
  readonly identityChange?: IdentityChange | undefined;
  /** The message exactly as Meta sent it. */
  readonly raw: unknown;
}

export interface StatusUpdate {
  readonly kind: 'status';
  readonly wamid: string;
  readonly account: AccountRef;
  readonly status: string;
  readonly at: number;
  readonly recipient: CustomerRef;
  readonly errors: readonly { readonly code?: number | undefined; readonly title?: string | undefined; readonly message?: string | undefined }[];
  readonly pricing?: { readonly billable?: boolean | undefined; readonly pricingModel?: string | undefined; readonly category?: string | undefined; readonly type?: string | undefined } | undefined;
  /** What we sent as `biz_opaque_callback_data`: our outbound id, for a message we sent. */
  readonly callbackData?: string | undefined;
  readonly raw: unknown;
}

/** An identity change that arrives without a message (`user_id_update`). */
export interface IdentityUpdate {
  readonly kind: 'identity_update';
  readonly account: AccountRef;
  readonly at: number;
  readonly customer: CustomerRef;
  readonly change: IdentityChange;
  readonly raw: unknown;
}

/** The customer's own marketing preference in WhatsApp (`user_preferences`: stop / resume), CP-7. */
export interface PreferenceUpdate {
  readonly kind: 'preference';
  readonly account: AccountRef;
  readonly at: number;
  readonly customer: CustomerRef;
  readonly marketing: 'opted_in' | 'opted_out';
  readonly raw: unknown;
}

/** Anything that could not be understood: kept raw for a person to look at (invariant 6). */
export interface Unprocessable {
  readonly kind: 'unprocessable';
  readonly reason: string;
  readonly field: string;
  readonly account?: AccountRef | undefined;
  readonly raw: unknown;
}

export type WebhookEvent = InboundMessage | StatusUpdate | IdentityUpdate | PreferenceUpdate | Unprocessable;
