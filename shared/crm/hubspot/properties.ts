/**
 * The HubSpot property names this integration reads and writes, and the definitions that
 * hubspot:setup creates. One list, so the adapter, the setup and the local server agree.
 */

export const CONTACT = {
  /** BSUID, unique: the primary WhatsApp identity. */
  bsuid: 'whatsapp_user_id',
  /** E.164 phone, unique, only when Meta shares it. */
  phone: 'whatsapp_phone',
  username: 'whatsapp_username',
  profileName: 'whatsapp_profile_name',
  /** Our own contact id (reference only, not unique). */
  scrmContactId: 'whatsapp_scrm_contact_id',
  lastInteractionAt: 'whatsapp_last_interaction_at',
  /** First-touch source, written only when this integration creates the contact. */
  leadSource: 'whatsapp_lead_source',
} as const;

/**
 * Two-way sync's own contact properties (SY-3), beside `firstname` and the mapped customer level.
 * HubSpot notifies a project app of changes to a contact property, not of new records of most
 * other objects, so an agent's reply is a property of the contact: each new value is one reply
 * (its history keeps them all), and its delivery status goes to a property next to it.
 */
export const TWO_WAY_PROPERTIES = {
  /** The reply an agent writes to the customer (textarea); a change is sent on WhatsApp. */
  reply: 'whatsapp_reply',
  /** The last reply's delivery status as we write it: `delivered 2026-12-02T09:00:00.000Z` (+ `: <error>` when failed). */
  replyStatus: 'whatsapp_reply_status',
  /** Sales noted that the customer wants no marketing (a checkbox, `true` / `false`). */
  marketingOptOut: 'whatsapp_marketing_opt_out',
} as const;

export const COMMUNICATION = {
  /** The WhatsApp message id (wamid): the idempotency key of a logged message. */
  messageId: 'whatsapp_message_id',
  direction: 'whatsapp_direction',
} as const;

/**
 * Customer-intelligence properties of a contact, written by the sync through
 * `CrmContactInput.properties` (use these names, not string literals). Values: numbers as
 * numbers, datetimes as ms (the adapter sends ISO 8601), null clears the value.
 */
export const INTELLIGENCE_PROPERTIES = {
  /** Tags, semicolon-separated (`vip;wholesale`). */
  tags: 'whatsapp_tags',
  /** One of {@link SEGMENT_VALUES}. */
  segment: 'whatsapp_segment',
  activityScore: 'whatsapp_activity_score',
  /** 0..1 */
  sentiment: 'whatsapp_sentiment',
  priority: 'whatsapp_priority',
  /** `word:count` pairs, semicolon-separated (`discount:4;refund:1`). */
  hotWords: 'whatsapp_hot_words',
  messageCount: 'whatsapp_message_count',
  customerLevel: 'whatsapp_customer_level',
  /** The customer's most used emoji, semicolon-separated (SY-8). */
  frequentEmoji: 'whatsapp_frequent_emoji',
} as const;

/**
 * What automations record about a contact and the sales team should see (AU-4, RP-13, AG-1),
 * custom properties written through `CrmContactInput.properties` only when we know a value: never
 * cleared by a sync that does not know it.
 */
export const AUTOMATION_PROPERTIES = {
  /** Code of the last coupon an automation gave the customer. */
  lastCoupon: 'whatsapp_last_coupon',
  /** The customer's last satisfaction rating, 1–5. */
  satisfaction: 'whatsapp_satisfaction',
  /** Our id of the agent the conversation is assigned to. */
  agent: 'whatsapp_agent',
} as const;

/**
 * HubSpot's standard contact address properties (docs/hubspot.md, "Profile"), by our
 * `ContactAddress` field. Written only with a value: what sales typed is never cleared by a sync
 * that does not know the address.
 */
export const CONTACT_ADDRESS_PROPERTIES = {
  street: 'address',
  locality: 'city',
  region: 'state',
  postalCode: 'zip',
  country: 'country',
} as const;

/** Allowed values of {@link INTELLIGENCE_PROPERTIES.segment} (HubSpot rejects others). */
export const SEGMENT_VALUES = ['new', 'active', 'potential', 'high_intent', 'dormant', 'churned'] as const;
export type Segment = (typeof SEGMENT_VALUES)[number];

export const DEAL = {
  /** Our opportunity id (wamid of the purchase-intent message), unique: the idempotency key. */
  opportunityId: 'whatsapp_opportunity_id',
  sku: 'whatsapp_sku',
  /** ISO 4217 code as we got it; HubSpot's `deal_currency_code` is not written (see docs/hubspot.md). */
  currency: 'whatsapp_currency',
} as const;

export const TASK = {
  /** Our task id (e.g. `follow-up:<contactId>:<isoWeek>`), unique: the idempotency key of the task. */
  taskId: 'whatsapp_task_id',
} as const;

/**
 * HubSpot's order properties read for the last order (standard, filled by the shop's connector;
 * docs/hubspot.md, "Orders and tracking"). HubSpot has no standard carrier property: see
 * {@link DEFAULT_ORDER_CARRIER_PROPERTY}.
 */
export const ORDER = {
  name: 'hs_order_name',
  totalPrice: 'hs_total_price',
  currency: 'hs_currency_code',
  fulfillmentStatus: 'hs_fulfillment_status',
  trackingNumber: 'hs_shipping_tracking_number',
  trackingUrl: 'hs_shipping_status_url',
  /** When the order was placed in the shop (datetime). */
  externalCreatedAt: 'hs_external_created_date',
  /** When the order record was created in HubSpot. */
  createdAt: 'hs_createdate',
} as const;

/**
 * The order property the carrier is read from, unless the adapter is told another
 * (`orderCarrierProperty`): a custom property a shop connector can fill. HubSpot documents none;
 * a property an account does not have is simply not returned.
 */
export const DEFAULT_ORDER_CARRIER_PROPERTY = 'whatsapp_carrier';

export const LINE_ITEM = {
  sku: 'hs_sku',
} as const;

/** Value written to {@link CONTACT.leadSource} on contacts this integration creates. */
export const LEAD_SOURCE_WHATSAPP = 'WhatsApp';

/** HUBSPOT_DEFINED association type id, communication → contact. */
export const COMMUNICATION_TO_CONTACT_TYPE_ID = 81;

/** HUBSPOT_DEFINED association type id, deal → contact (contact → deal is 4). */
export const DEAL_TO_CONTACT_TYPE_ID = 3;

/** HUBSPOT_DEFINED association type id, task → contact (contact → task is 203). */
export const TASK_TO_CONTACT_TYPE_ID = 204;

/** HubSpot's default deal pipeline and its first stage (internal ids). */
export const DEFAULT_DEAL_PIPELINE = 'default';
export const DEFAULT_DEAL_STAGE = 'appointmentscheduled';

export type HubSpotObjectType = 'contacts' | 'communications' | 'deals' | 'tasks' | 'orders' | 'line_items';

export interface PropertyGroupDefinition {
  readonly name: string;
  readonly label: string;
}

export interface PropertyDefinition {
  readonly objectType: HubSpotObjectType;
  readonly name: string;
  readonly label: string;
  readonly type: 'string' | 'number' | 'datetime' | 'enumeration' | 'bool';
  readonly fieldType: 'text' | 'textarea' | 'number' | 'date' | 'select' | 'booleancheckbox';
  readonly hasUniqueValue?: boolean;
  readonly description: string;
  readonly options?: readonly { readonly label: string; readonly value: string }[];
}

export const PROPERTY_GROUP: PropertyGroupDefinition = { name: 'whatsapp', label: 'WhatsApp' };

export const PROPERTY_DEFINITIONS: readonly PropertyDefinition[] = [
  {
    objectType: 'contacts',
    name: CONTACT.bsuid,
    label: 'WhatsApp user ID (BSUID)',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'Business-scoped WhatsApp user id. Unique: identifies the WhatsApp customer.',
  },
  {
    objectType: 'contacts',
    name: CONTACT.phone,
    label: 'WhatsApp phone (E.164)',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'WhatsApp phone number in E.164, when Meta shares it. Unique.',
  },
  {
    objectType: 'contacts',
    name: CONTACT.username,
    label: 'WhatsApp username',
    type: 'string',
    fieldType: 'text',
    description: 'WhatsApp username (display data, can change at any time).',
  },
  {
    objectType: 'contacts',
    name: CONTACT.profileName,
    label: 'WhatsApp profile name',
    type: 'string',
    fieldType: 'text',
    description: 'Profile name the customer set in WhatsApp.',
  },
  {
    objectType: 'contacts',
    name: CONTACT.scrmContactId,
    label: 'WhatsApp CRM contact id',
    type: 'string',
    fieldType: 'text',
    description: 'Contact id in the WhatsApp Social CRM (reference).',
  },
  {
    objectType: 'contacts',
    name: CONTACT.lastInteractionAt,
    label: 'WhatsApp last interaction',
    type: 'datetime',
    fieldType: 'date',
    description: 'Time of the last WhatsApp message with this customer.',
  },
  {
    objectType: 'contacts',
    name: CONTACT.leadSource,
    label: 'WhatsApp lead source',
    type: 'string',
    fieldType: 'text',
    description: 'Set to "WhatsApp" on contacts that first reached us through WhatsApp.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.tags,
    label: 'WhatsApp tags',
    type: 'string',
    fieldType: 'text',
    description: 'Tags of the customer in the WhatsApp Social CRM, semicolon-separated.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.segment,
    label: 'WhatsApp segment',
    type: 'enumeration',
    fieldType: 'select',
    description: 'Customer segment computed from the WhatsApp conversation.',
    options: [
      { label: 'New', value: 'new' },
      { label: 'Active', value: 'active' },
      { label: 'Potential', value: 'potential' },
      { label: 'High intent', value: 'high_intent' },
      { label: 'Dormant', value: 'dormant' },
      { label: 'Churned', value: 'churned' },
    ] satisfies { label: string; value: Segment }[],
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.activityScore,
    label: 'WhatsApp activity score',
    type: 'number',
    fieldType: 'number',
    description: 'How active the customer is on WhatsApp.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.sentiment,
    label: 'WhatsApp sentiment',
    type: 'number',
    fieldType: 'number',
    description: 'Sentiment of the recent WhatsApp messages, 0 (negative) to 1 (positive).',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.priority,
    label: 'WhatsApp priority',
    type: 'number',
    fieldType: 'number',
    description: 'Follow-up priority computed from the WhatsApp conversation.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.hotWords,
    label: 'WhatsApp hot words',
    type: 'string',
    fieldType: 'text',
    description: 'Words of interest and how often they came up, e.g. discount:4;refund:1.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.frequentEmoji,
    label: 'WhatsApp frequent emoji',
    type: 'string',
    fieldType: 'text',
    description: 'The emoji the customer uses most on WhatsApp, most frequent first, e.g. 👍;😂.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.messageCount,
    label: 'WhatsApp message count',
    type: 'number',
    fieldType: 'number',
    description: 'Number of WhatsApp messages exchanged with this customer.',
  },
  {
    objectType: 'contacts',
    name: INTELLIGENCE_PROPERTIES.customerLevel,
    label: 'WhatsApp customer level',
    type: 'string',
    fieldType: 'text',
    description: 'Customer level in the WhatsApp Social CRM.',
  },
  {
    objectType: 'contacts',
    name: AUTOMATION_PROPERTIES.lastCoupon,
    label: 'WhatsApp last coupon',
    type: 'string',
    fieldType: 'text',
    description: 'Code of the last coupon a WhatsApp automation gave the customer.',
  },
  {
    objectType: 'contacts',
    name: AUTOMATION_PROPERTIES.satisfaction,
    label: 'WhatsApp satisfaction',
    type: 'number',
    fieldType: 'number',
    description: 'The customer\'s last satisfaction rating on WhatsApp, 1 (poor) to 5 (excellent).',
  },
  {
    objectType: 'contacts',
    name: AUTOMATION_PROPERTIES.agent,
    label: 'WhatsApp agent',
    type: 'string',
    fieldType: 'text',
    description: 'Id of the agent the WhatsApp conversation is assigned to.',
  },
  {
    objectType: 'contacts',
    name: TWO_WAY_PROPERTIES.reply,
    label: 'WhatsApp reply',
    type: 'string',
    fieldType: 'textarea',
    description: 'Write a reply here to send it to the customer on WhatsApp (within 24 hours of their last message).',
  },
  {
    objectType: 'contacts',
    name: TWO_WAY_PROPERTIES.replyStatus,
    label: 'WhatsApp reply status',
    type: 'string',
    fieldType: 'text',
    description: 'Delivery status of the last WhatsApp reply written here (queued, sent, delivered, read, failed) and when.',
  },
  {
    objectType: 'contacts',
    name: TWO_WAY_PROPERTIES.marketingOptOut,
    label: 'WhatsApp marketing opt-out',
    type: 'bool',
    fieldType: 'booleancheckbox',
    description: 'Check when the customer asked for no marketing on WhatsApp. Unchecking does not opt them in again.',
    options: [
      { label: 'Yes', value: 'true' },
      { label: 'No', value: 'false' },
    ],
  },
  {
    objectType: 'deals',
    name: DEAL.opportunityId,
    label: 'WhatsApp opportunity ID',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'Id of the WhatsApp message that showed the purchase intent; the idempotency key of the deal.',
  },
  {
    objectType: 'deals',
    name: DEAL.sku,
    label: 'WhatsApp SKU',
    type: 'string',
    fieldType: 'text',
    description: 'SKU of the product the customer asked about on WhatsApp.',
  },
  {
    objectType: 'deals',
    name: DEAL.currency,
    label: 'WhatsApp currency',
    type: 'string',
    fieldType: 'text',
    description: 'Currency (ISO 4217) of the amount as the customer saw it on WhatsApp.',
  },
  {
    objectType: 'communications',
    name: COMMUNICATION.messageId,
    label: 'WhatsApp message ID',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'WhatsApp message id (wamid); the idempotency key of the logged message.',
  },
  {
    objectType: 'communications',
    name: COMMUNICATION.direction,
    label: 'WhatsApp direction',
    type: 'enumeration',
    fieldType: 'select',
    description: 'Whether the customer sent the message (inbound) or the business did (outbound).',
    options: [
      { label: 'Inbound', value: 'inbound' },
      { label: 'Outbound', value: 'outbound' },
    ],
  },
  {
    objectType: 'tasks',
    name: TASK.taskId,
    label: 'WhatsApp task ID',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'Id of the WhatsApp follow-up (e.g. follow-up:<contact>:<week>); the idempotency key of the task.',
  },
];

/** Names of the datetime properties defined here (a caller's ms value is sent as ISO 8601). */
export const DATETIME_PROPERTIES: ReadonlySet<string> = new Set(
  PROPERTY_DEFINITIONS.filter((d) => d.type === 'datetime').map((d) => d.name),
);
