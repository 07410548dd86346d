/**
 * The Zoho CRM modules and field API names this integration reads and writes: one list for the
 * adapter, the local stand-in and docs/zoho.md (which names the custom fields and modules an
 * administrator creates, and which of them must be unique — "Do not allow duplicate values").
 */

/** Contacts: standard fields (Zoho's API names) and the custom WhatsApp ones. */
export const CONTACT = {
  /** Business-scoped user id (BSUID). Custom single line, unique. */
  bsuid: 'WhatsApp_User_ID',
  /** E.164 phone the customer writes from. Custom single line (or phone), unique. */
  phone: 'WhatsApp_Phone',
  username: 'WhatsApp_Username',
  profileName: 'WhatsApp_Profile_Name',
  /** Our own contact id. */
  scrmContactId: 'WhatsApp_Contact_ID',
  firstName: 'First_Name',
  /** Mandatory on insert (Zoho's system-defined mandatory field of Contacts). */
  lastName: 'Last_Name',
  /** The CRM's own phone fields, where a sales user types a number. */
  salesPhone: 'Phone',
  mobile: 'Mobile',
  leadSource: 'Lead_Source',
  /** Sales noted that the customer opted out of WhatsApp marketing. Custom checkbox (SY-3). */
  marketingOptOut: 'WhatsApp_Marketing_Opt_Out',
} as const;

/** System fields every record has: read by two-way sync to date a change and to tell our own writes. */
export const SYSTEM = {
  createdTime: 'Created_Time',
  modifiedTime: 'Modified_Time',
  /** The user who last modified the record (`{ name, id }`). */
  modifiedBy: 'Modified_By',
  createdBy: 'Created_By',
} as const;

export const CONTACTS_MODULE = 'Contacts';

/** Lead_Source picklist value written when this integration creates the contact (SY-2). */
export const LEAD_SOURCE_WHATSAPP = 'WhatsApp';

/** Last_Name of a customer WhatsApp gave no name for (Zoho requires one). */
export const UNNAMED_CONTACT = 'WhatsApp customer';

/**
 * Logged WhatsApp messages: a custom module, because a Note has no field that can be unique
 * (Notes take only Note_Title / Note_Content), so a Note whose answer was lost could only be found
 * again by scanning the contact's notes (docs/zoho.md, "Messages").
 */
export const MESSAGE = {
  module: 'WhatsApp_Messages',
  /** The record name every custom module has (mandatory). */
  name: 'Name',
  /** The wamid. Custom single line, unique: the idempotency key. */
  messageId: 'WhatsApp_Message_ID',
  /** Lookup to Contacts. */
  contact: 'Contact',
  direction: 'Direction',
  /** Multi-line (large, 32,000 characters). */
  body: 'Message_Body',
  sentAt: 'Sent_At',
  conversationId: 'Conversation_ID',
} as const;

export const DEAL = {
  module: 'Deals',
  /** Our opportunity id (the wamid of the purchase-intent message). Custom, unique. */
  opportunityId: 'WhatsApp_Opportunity_ID',
  sku: 'WhatsApp_SKU',
  name: 'Deal_Name',
  stage: 'Stage',
  closingDate: 'Closing_Date',
  amount: 'Amount',
  /** Lookup to Contacts. */
  contact: 'Contact_Name',
  pipeline: 'Pipeline',
  leadSource: 'Lead_Source',
  description: 'Description',
} as const;

export const TASK = {
  module: 'Tasks',
  /** Our task id. Custom, unique. */
  taskId: 'WhatsApp_Task_ID',
  subject: 'Subject',
  /** A date (yyyy-MM-dd): Zoho tasks have no due time. */
  dueDate: 'Due_Date',
  description: 'Description',
  status: 'Status',
  /** Lookup to the contact ("Contact Name" of an activity). */
  who: 'Who_Id',
  owner: 'Owner',
  /** Checked by an agent: the task's Description is a reply to send on WhatsApp. Custom checkbox (SY-3). */
  reply: 'WhatsApp_Reply',
  /** The reply's delivery status as we write it back (`delivered 2026-12-02T09:00:00.000Z`). Custom single line. */
  replyStatus: 'WhatsApp_Status',
} as const;

/** Task Status once a reply has gone out (a value of Zoho's standard Status picklist). */
export const TASK_DONE_STATUS = 'Completed';

/** Deal stages that close a deal (Zoho's standard pipeline): visible to automation; Closed Won is a purchase. */
export const DEAL_WON_STAGE = 'Closed Won';
export const DEAL_CLOSED_STAGES: readonly string[] = [DEAL_WON_STAGE, 'Closed Lost', 'Closed Lost to Competition'];

/** The week's service quality (SY-6): a custom module with a unique report id. */
export const REPORT = {
  module: 'WhatsApp_Service_Reports',
  name: 'Name',
  reportId: 'WhatsApp_Report_ID',
  periodStart: 'Period_Start',
  periodEnd: 'Period_End',
  /** Seconds (a number field; empty when no conversation had an answer). */
  medianFirstResponse: 'Median_First_Response_Seconds',
  conversations: 'Conversations',
  unanswered: 'Unanswered',
} as const;

/** Sales Orders as the shop connector fills them; the tracking fields are custom ones. */
export const ORDER = {
  module: 'Sales_Orders',
  /** The related list of Sales Orders on a contact (its API name in Zoho's related lists). */
  relatedList: 'SalesOrders',
  subject: 'Subject',
  status: 'Status',
  grandTotal: 'Grand_Total',
  currency: 'Currency',
  /** Standard picklist (FedEx, UPS, USPS, DHL, BlueDart …). */
  carrier: 'Carrier',
  contact: 'Contact_Name',
  items: 'Ordered_Items',
  trackingNumber: 'WhatsApp_Tracking_Number',
  trackingUrl: 'WhatsApp_Tracking_URL',
  /** When the shop says the customer ordered (else Created_Time). */
  placedAt: 'WhatsApp_Placed_At',
  createdTime: 'Created_Time',
} as const;

/** Unique custom fields, by module: what the adapter's idempotency rests on. */
export const UNIQUE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  [CONTACTS_MODULE]: [CONTACT.bsuid, CONTACT.phone],
  [MESSAGE.module]: [MESSAGE.messageId],
  [DEAL.module]: [DEAL.opportunityId],
  [TASK.module]: [TASK.taskId],
  [REPORT.module]: [REPORT.reportId],
};

/** Defaults of the adapter options that name account-specific values. */
export const DEFAULT_DEAL_STAGE = 'Qualification';
export const DEFAULT_DEAL_CLOSE_DAYS = 30;
export const DEFAULT_TASK_STATUS = 'Not Started';
