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

export const COMMUNICATION = {
  /** The WhatsApp message id (wamid): the idempotency key of a logged message. */
  messageId: 'whatsapp_message_id',
  direction: 'whatsapp_direction',
} as const;

/** Value written to {@link CONTACT.leadSource} on contacts this integration creates. */
export const LEAD_SOURCE_WHATSAPP = 'WhatsApp';

/** HUBSPOT_DEFINED association type id, communication → contact. */
export const COMMUNICATION_TO_CONTACT_TYPE_ID = 81;

export type HubSpotObjectType = 'contacts' | 'communications';

export interface PropertyGroupDefinition {
  readonly name: string;
  readonly label: string;
}

export interface PropertyDefinition {
  readonly objectType: HubSpotObjectType;
  readonly name: string;
  readonly label: string;
  readonly type: 'string' | 'datetime' | 'enumeration';
  readonly fieldType: 'text' | 'date' | 'select';
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
];
