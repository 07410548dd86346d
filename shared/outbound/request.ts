/**
 * What a caller may ask to send (`POST /api/messages`), validated: every problem is named by its
 * field. The same shape comes from an agent, an automation or a CRM-triggered message.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import '../zod.ts';
import { MESSAGE_CATEGORIES, MESSAGE_ORIGINS, contentHash, templateContentHash, type MessageCategory, type MessageOrigin } from '../domain/policy.ts';
import type { OutboundContent } from '../whatsapp/outbound/channel.ts';

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const id = z.string().check(z.minLength(1), z.maxLength(256));

const To = z.union([
  z.strictObject({ contactId: id }),
  z.strictObject({ phone: z.string().check(z.regex(/^\+?[\d\s()-]{6,24}$/, 'an E.164 phone like +85291234567')) }),
  z.strictObject({ bsuid: id }),
]);

const Template = z.strictObject({
  name: z.string().check(z.regex(/^[a-z0-9_]{1,512}$/, 'lowercase letters, digits and underscores')),
  language: z.string().check(z.regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a language code like en or zh_HK')),
  parameters: z.optional(z.union([z.array(z.string().check(z.maxLength(1024))), z.record(z.string().check(z.regex(/^[a-z_][a-z0-9_]*$/)), z.string().check(z.maxLength(1024)))])),
});

const Media = z.strictObject({
  mediaId: z.optional(id),
  link: z.optional(z.url({ protocol: /^https$/ })),
  caption: z.optional(text(1024)),
  filename: z.optional(text(240)),
});

export const SendBodySchema = z.strictObject({
  to: To,
  category: z.enum(MESSAGE_CATEGORIES),
  text: z.optional(text(4096)),
  template: z.optional(Template),
  buttons: z.optional(
    z.strictObject({
      body: text(1024),
      buttons: z.array(z.strictObject({ id: text(256), title: text(20) })).check(z.minLength(1), z.maxLength(3)),
      header: z.optional(text(60)),
      footer: z.optional(text(60)),
    }),
  ),
  list: z.optional(
    z.strictObject({
      body: text(1024),
      button: text(20),
      sections: z
        .array(z.strictObject({ title: z.optional(text(24)), rows: z.array(z.strictObject({ id: text(200), title: text(24), description: z.optional(text(72)) })).check(z.minLength(1)) }))
        .check(z.minLength(1), z.maxLength(10)),
      header: z.optional(text(60)),
      footer: z.optional(text(60)),
    }),
  ),
  image: z.optional(Media),
  document: z.optional(Media),
  eventKey: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  origin: z._default(z.enum(MESSAGE_ORIGINS), 'api'),
  agentId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  /**
   * Free-form content that promotes (an automation's coupon inside the window): Meta prices it as
   * service, but the policy treats it as marketing — CP-7 (opted out) and CP-4 (once a week) apply.
   */
  promotional: z.optional(z.boolean()),
  /** The automation rule that sends it (origin automation). */
  rule: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  /** The business number to send from (its phone_number_id); default the one the customer last wrote to. */
  from: z.optional(z.string().check(z.regex(/^\d{1,30}$/, 'a phone_number_id'))),
  /** The customer's message this one answers. */
  replyTo: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});
export type SendBody = z.infer<typeof SendBodySchema>;

export interface SendRequestInput {
  readonly to: SendBody['to'];
  readonly category: MessageCategory;
  readonly origin: MessageOrigin;
  readonly agentId?: string | undefined;
  readonly rule?: string | undefined;
  /** Free-form promotional content: the policy reads it as marketing (CP-4, CP-7). */
  readonly promotional?: boolean | undefined;
  readonly content: OutboundContent;
  readonly eventKey?: string | undefined;
  readonly from?: string | undefined;
  readonly replyTo?: string | undefined;
  /** A reply an agent wrote in the CRM (SY-3): its delivery status goes back to that record. */
  readonly crmReply?: CrmReplyRef | undefined;
  /** sha256 of the canonical body: the same idempotency key with another body is a conflict. */
  readonly requestHash: string;
}

/** The CRM record a reply written there came from. */
export interface CrmReplyRef {
  readonly kind: string;
  readonly replyId: string;
  readonly contactCrmId: string;
}

export class RequestError extends Error {
  override readonly name = 'RequestError';
}

/** The body as a send request, or a RequestError naming the problem. */
export function parseSendBody(body: unknown): SendRequestInput {
  const parsed = SendBodySchema.safeParse(body);
  if (!parsed.success) {
    throw new RequestError(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; '));
  }
  const b = parsed.data;
  const kinds = (['text', 'template', 'buttons', 'list', 'image', 'document'] as const).filter((k) => b[k] !== undefined);
  if (kinds.length !== 1) throw new RequestError(`exactly one of text, template, buttons, list, image, document is required (got ${kinds.length ? kinds.join(', ') : 'none'})`);
  if (b.list && b.list.sections.reduce((n, section) => n + section.rows.length, 0) > 10) throw new RequestError('list.sections: at most 10 rows in all (Meta\'s limit)');
  if (b.origin === 'agent' && !b.agentId) throw new RequestError('agentId: required when origin is "agent"');
  for (const media of [b.image, b.document]) {
    if (media && (media.mediaId === undefined) === (media.link === undefined)) throw new RequestError(`${b.image ? 'image' : 'document'}: exactly one of mediaId and link`);
  }
  if (b.template && b.category !== 'authentication' && b.category !== 'marketing' && b.category !== 'utility') {
    throw new RequestError('category: a template is marketing, utility or authentication');
  }
  if (!b.template && b.category !== 'service') throw new RequestError(`category: only a template can be ${b.category}; a free-form message is service`);
  return {
    to: b.to,
    category: b.category,
    origin: b.origin,
    agentId: b.agentId,
    rule: b.rule,
    ...(b.promotional && { promotional: true }),
    content: contentOf(b),
    eventKey: b.eventKey,
    from: b.from,
    replyTo: b.replyTo,
    requestHash: createHash('sha256').update(canonical(b)).digest('base64url'),
  };
}

function contentOf(b: SendBody): OutboundContent {
  if (b.text !== undefined) return { type: 'text', text: b.text };
  if (b.template) return { type: 'template', name: b.template.name, language: b.template.language, parameters: b.template.parameters };
  if (b.buttons) return { type: 'buttons', ...b.buttons };
  if (b.list) return { type: 'list', ...b.list };
  const media = (b.image ?? b.document)!;
  return { type: b.image ? 'image' : 'document', ...media };
}

/** One line for people, the CRM and the conversation view. */
export function summaryOf(content: OutboundContent): string {
  switch (content.type) {
    case 'text':
      return content.text;
    case 'template': {
      const p = content.parameters;
      const values = p === undefined ? [] : Array.isArray(p) ? p : Object.values(p);
      return `[template ${content.name} (${content.language})${values.length ? `: ${values.join(', ')}` : ''}]`;
    }
    case 'buttons':
      return `${content.body} [${content.buttons.map((b) => b.title).join(' | ')}]`;
    case 'list':
      return `${content.body} [list]`;
    case 'image':
    case 'document':
      return `[${content.type}${content.caption ? `: ${content.caption}` : ''}]`;
  }
}

/** The hash CP-3 counts (same words, same template and parameters). */
export function hashOf(content: OutboundContent): string {
  if (content.type === 'template') return templateContentHash(content.name, content.language, content.parameters);
  return contentHash(summaryOf(content));
}

/** JSON with sorted keys: two bodies that mean the same hash the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
