import { z } from 'zod';

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
const optionalString = z.string().optional();

export const ProfileSchema = loose({ name: optionalString, username: optionalString });

export const WebhookContactSchema = loose({
  wa_id: optionalString,
  user_id: optionalString,
  parent_user_id: optionalString,
  profile: ProfileSchema.optional(),
});
export type WebhookContact = z.infer<typeof WebhookContactSchema>;

const MediaSchema = loose({
  id: optionalString,
  mime_type: optionalString,
  sha256: optionalString,
  caption: optionalString,
  filename: optionalString,
  url: optionalString,
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
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
  id: z.string().min(1),
  timestamp: z.string().regex(/^\d+$/, 'timestamp must be epoch seconds'),
  type: z.string().min(1),
  from: optionalString,
  from_user_id: optionalString,
  from_parent_user_id: optionalString,
  context: loose({
    from: optionalString,
    from_user_id: optionalString,
    id: optionalString,
    forwarded: z.boolean().optional(),
    frequently_forwarded: z.boolean().optional(),
  }).optional(),
  text: loose({ body: z.string() }).optional(),
  image: MediaSchema.optional(),
  video: MediaSchema.optional(),
  audio: MediaSchema.optional(),
  document: MediaSchema.optional(),
  sticker: MediaSchema.optional(),
  location: loose({
    latitude: z.number().optional(),
    longitude: z.number().optional(),
    name: optionalString,
    address: optionalString,
    url: optionalString,
  }).optional(),
  contacts: z.array(z.unknown()).optional(),
  interactive: loose({
    type: optionalString,
    button_reply: loose({ id: optionalString, title: optionalString }).optional(),
    list_reply: loose({ id: optionalString, title: optionalString, description: optionalString }).optional(),
    nfm_reply: loose({ name: optionalString, body: optionalString, response_json: optionalString }).optional(),
  }).optional(),
  button: loose({ payload: optionalString, text: optionalString }).optional(),
  reaction: loose({ message_id: optionalString, emoji: optionalString }).optional(),
  order: loose({
    catalog_id: optionalString,
    text: optionalString,
    product_items: z
      .array(loose({ product_retailer_id: optionalString, quantity: z.number().optional(), item_price: z.number().optional(), currency: optionalString }))
      .optional(),
  }).optional(),
  referral: ReferralSchema.optional(),
  system: SystemSchema.optional(),
  errors: z.array(loose({ code: z.number().optional(), title: optionalString, message: optionalString })).optional(),
});
export type WebhookMessage = z.infer<typeof WebhookMessageSchema>;

export const WebhookErrorSchema = loose({
  code: z.number().optional(),
  title: optionalString,
  message: optionalString,
  error_data: loose({ details: optionalString }).optional(),
});

export const WebhookStatusSchema = loose({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string().regex(/^\d+$/, 'timestamp must be epoch seconds'),
  recipient_id: optionalString,
  recipient_user_id: optionalString,
  recipient_parent_user_id: optionalString,
  biz_opaque_callback_data: optionalString,
  errors: z.array(WebhookErrorSchema).optional(),
  pricing: loose({
    billable: z.boolean().optional(),
    pricing_model: optionalString,
    category: optionalString,
    type: optionalString,
  }).optional(),
});
export type WebhookStatus = z.infer<typeof WebhookStatusSchema>;

/** `user_id_update` (declared not subscribable in August 2026: accepted if it arrives). */
export const UserIdUpdateSchema = loose({
  wa_id: optionalString,
  user_id: loose({ previous: optionalString, current: optionalString }).optional(),
  timestamp: optionalString,
});

export const ChangeValueSchema = loose({
  messaging_product: optionalString,
  metadata: loose({ display_phone_number: optionalString, phone_number_id: z.string().min(1) }).optional(),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
  user_id_update: z.array(z.unknown()).optional(),
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
    .min(1),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** Formats a zod error as one readable line: `entry.0.changes: Required; object: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
