/** The stored shape of a customer and a message (ID-2, IN-3). */
import type { Consents } from './consent.ts';

export type LeadSource = 'whatsapp' | 'whatsapp_ad';

export interface Contact {
  readonly contactId: string;
  /** Current business-scoped user id. */
  readonly bsuid?: string;
  readonly parentBsuid?: string;
  /** Current phone in E.164, when Meta shared one. */
  readonly phone?: string;
  /** The phone exactly as received, when it could not be parsed (flagged, never dropped). */
  readonly phoneRaw?: string;
  readonly phoneFlag?: 'unparseable' | 'invalid';
  readonly previousPhones?: string[];
  readonly previousBsuids?: string[];
  readonly username?: string;
  readonly profileName?: string;
  /** phone_number_ids the customer wrote to (IN-6). */
  readonly accounts?: string[];
  readonly leadSource: LeadSource;
  readonly leadReferral?: { sourceId?: string; sourceType?: string; sourceUrl?: string; headline?: string };
  readonly firstInboundAt?: number;
  readonly lastInboundAt?: number;
  /** The customer's last message that came from a click-to-WhatsApp ad (opens the 72 h entry point). */
  readonly lastReferralAt?: number;
  readonly lastOutboundAt?: number;
  readonly lastReadAt?: number;
  readonly inboundCount?: number;
  /** Running counts of the hot words the customer used (TG-2), by hot-word id. */
  readonly hotWords?: Readonly<Record<string, number>>;
  /** Every rule tag the customer's messages carried, plus contact tags earned from hot words. */
  readonly tags?: string[];
  readonly segment?: string;
  /** When the segment last changed (the time of the message or refresh that changed it). */
  readonly segmentAt?: number;
  readonly sentimentSum?: number;
  readonly sentimentCount?: number;
  readonly lastSentiment?: number;
  readonly activityScore?: number;
  readonly priority?: number;
  readonly customerLevel: string;
  /** Consent per purpose (marketing), as state with when and how (CP-7); absent: unknown. */
  readonly consent?: Consents;
  readonly crm?: { kind: string; id: string; syncedAt: number };
  /** Set when this contact turned out to be another one (identity evidence); the other holds its history too. */
  readonly mergedInto?: string;
  readonly mergedFrom?: string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type SyncState = 'pending' | 'synced' | 'failed';

/** What a customer's message says, from the intelligence rules (TG-1, TG-2, TG-5, TG-7, ID-4). */
export interface MessageAnalysis {
  readonly tags: string[];
  readonly intent: string;
  readonly sku: string | null;
  /** 0..1, 0.5 neutral. */
  readonly sentiment: number;
  readonly hotWords: Record<string, number>;
}

export interface MessageRecord {
  readonly wamid: string;
  readonly contactId: string;
  readonly direction: 'inbound' | 'outbound';
  readonly phoneNumberId: string;
  readonly wabaId: string;
  readonly type: string;
  readonly knownType: boolean;
  readonly summary: string;
  readonly text?: string;
  readonly media?: { kind: string; mediaId: string; mimeType?: string; filename?: string; s3Key?: string };
  readonly replyTo?: string;
  readonly sentAt: number;
  readonly receivedAt: number;
  /** Highest delivery status seen for an outbound message, and the first time of each. */
  readonly status?: string;
  readonly statusAt_sent?: number;
  readonly statusAt_delivered?: number;
  readonly statusAt_read?: number;
  readonly statusAt_failed?: number;
  readonly error?: { code?: number; title?: string; message?: string };
  readonly pricing?: { billable?: boolean; pricingModel?: string; category?: string; type?: string };
  readonly syncState?: SyncState;
  readonly syncAttempts?: number;
  readonly syncError?: string;
  readonly crmId?: string;
  readonly syncedAt?: number;
  readonly raw?: string;
  readonly analysis?: MessageAnalysis;
  /** CRM id of the opportunity this message created (purchase intent with a SKU). */
  readonly opportunityCrmId?: string;
}

/** Customer level given to a contact until the CRM or a purchase says otherwise (ID-6). */
export const DEFAULT_CUSTOMER_LEVEL = 'new customer';
