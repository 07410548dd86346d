import * as z from 'zod/mini';
import '../zod.ts';

/**
 * The WhatsApp Cloud API webhook, as Meta sends it (Graph API v24+; `conversation` no longer
 * present on statuses). Every object is loose: fields Meta adds later are kept, not rejected.
 * Identity fields follow whatsapp-identity.md: phone fields may be absent, the business-scoped
 * user id (BSUID) fields are there instead.
 *
 * Only the envelope is strict (object, entry, changes): a payload without it is not a WhatsApp
 * webhook and gets 400. Inside a change, a message that does not fit is kept raw (never lost).
 */

const loose = z.looseObject;
const optionalString = z.optional(z.string());
const nonEmpty = () => z.string().check(z.minLength(1));
const epochSeconds = () => z.string().check(z.regex(/^\d+$/, 'timestamp must be epoch seconds'));

export const ProfileSchema = loose({ name: optionalString, username: optionalString });

export const WebhookContactSchema = loose({
  wa_id: optionalString,
  user_id: optionalString,
  parent_user_id: optionalString,
  profile: z.optional(ProfileSchema),
});
export type WebhookContact = z.infer<typeof WebhookContactSchema>;

const MediaSchema = loose({
  id: optionalString,
  mime_type: optionalString,
  sha256: optionalString,
  caption: optionalString,
  filename: optionalString,
  url: optionalString,
  voice: z.optional(z.boolean()),
  animated: z.optional(z.boolean()),
});

const ReferralSchema = loose({
  source_url: optionalString,
  source_id: optionalString,
  source_type: optionalString,
  headline: optionalString,
  body: optionalString,
  media_type: optionalString,
  ctwa_clid: optionalString,
});

const SystemSchema = loose({
  body: optionalString,
  type: optionalString,
  wa_id: optionalString,
  user_id: optionalString,
  previous_user_id: optionalString,
  identity: optionalString,
  customer: optionalString,
});

/** The fields every message must have; the rest depends on `type` and is kept as it came. */
export const WebhookMessageSchema = loose({
  id: nonEmpty(),
  timestamp: epochSeconds(),
  type: nonEmpty(),
  from: optionalString,
  from_user_id: optionalString,
  from_parent_user_id: optionalString,
  context: z.optional(loose({
    from: optionalString,
    from_user_id: optionalString,
    id: optionalString,
    forwarded: z.optional(z.boolean()),
    frequently_forwarded: z.optional(z.boolean()),
  })),
  text: z.optional(loose({ body: z.string() })),
  image: z.optional(MediaSchema),
  video: z.optional(MediaSchema),
  audio: z.optional(MediaSchema),
  document: z.optional(MediaSchema),
  sticker: z.optional(MediaSchema),
  location: z.optional(loose({
    latitude: z.optional(z.number()),
    longitude: z.optional(z.number()),
    name: optionalString,
    address: optionalString,
    url: optionalString,
  })),
  contacts: z.optional(z.array(z.unknown())),
  interactive: z.optional(loose({
    type: optionalString,
    button_reply: z.optional(loose({ id: optionalString, title: optionalString })),
    list_reply: z.optional(loose({ id: optionalString, title: optionalString, description: optionalString })),
    nfm_reply: z.optional(loose({ name: optionalString, body: optionalString, response_json: optionalString })),
  })),
  button: z.optional(loose({ payload: optionalString, text: optionalString })),
  reaction: z.optional(loose({ message_id: optionalString, emoji: optionalString })),
  order: z.optional(loose({
    catalog_id: optionalString,
    text: optionalString,
    product_items: z.optional(
      z.array(loose({ product_retailer_id: optionalString, quantity: z.optional(z.number()), item_price: z.optional(z.number()), currency: optionalString })),
    ),
  })),
  referral: z.optional(ReferralSchema),
  system: z.optional(SystemSchema),
  errors: z.optional(z.array(loose({ code: z.optional(z.number()), title: optionalString, message: optionalString }))),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;

export const WebhookErrorSchema = loose({
  code: z.optional(z.number()),
  title: optionalString,
  message: optionalString,
  error_data: z.optional(loose({ details: optionalString })),
});

export const WebhookStatusSchema = loose({
  id: nonEmpty(),
  status: nonEmpty(),
  timestamp: epochSeconds(),
  recipient_id: optionalString,
  recipient_user_id: optionalString,
  recipient_parent_user_id: optionalString,
  /** The name on Meta's BSUID page; `recipient_parent_user_id` is kept for payloads that use it. */
  parent_recipient_user_id: optionalString,
  biz_opaque_callback_data: optionalString,
  errors: z.optional(z.array(WebhookErrorSchema)),
  pricing: z.optional(loose({
    billable: z.optional(z.boolean()),
    pricing_model: optionalString,
    category: optionalString,
    type: optionalString,
  })),
});
export type WebhookStatus = z.infer<typeof WebhookStatusSchema>;

/** `user_id_update` (declared not subscribable in August 2026: accepted if it arrives). */
export const UserIdUpdateSchema = loose({
  wa_id: optionalString,
  user_id: z.optional(loose({ previous: optionalString, current: optionalString })),
  timestamp: optionalString,
});

/** `user_preferences`: the customer stopped or resumed marketing messages in WhatsApp itself (CP-7). */
export const UserPreferenceSchema = loose({
  wa_id: optionalString,
  user_id: optionalString,
  parent_user_id: optionalString,
  detail: optionalString,
  category: nonEmpty(),
  value: nonEmpty(),
  timestamp: epochSeconds(),
});

export const ChangeValueSchema = loose({
  messaging_product: optionalString,
  metadata: z.optional(loose({ display_phone_number: optionalString, phone_number_id: nonEmpty() })),
  contacts: z.optional(z.array(z.unknown())),
  messages: z.optional(z.array(z.unknown())),
  statuses: z.optional(z.array(z.unknown())),
  errors: z.optional(z.array(z.unknown())),
  user_id_update: z.optional(z.array(z.unknown())),
  user_preferences: z.optional(z.array(z.unknown())),
});

export const WebhookPayloadSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z
    .array(
      loose({
        id: z.string(),
        changes: z.array(loose({ field: z.string(), value: z.looseObject({}) })),
      }),
    )
    .check(z.minLength(1)),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** Formats a zod error as one readable line: `entry.0.changes: Required; object: …`. */
export function describeIssues(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
