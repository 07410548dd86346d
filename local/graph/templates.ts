/**
 * Message templates of the local Graph API: seeds written briefly, listed in Meta's shape
 * (`GET /<WABA_ID>/message_templates`) with Graph cursor paging.
 *
 * Template fields as in the WhatsApp Business HSM reference
 * (https://developers.facebook.com/docs/graph-api/reference/whats-app-business-hsm):
 * id, name, language, status (APPROVED, IN_APPEAL, PENDING, REJECTED, PENDING_DELETION, DELETED,
 * DISABLED, PAUSED, LIMIT_EXCEEDED), category, parameter_format, components. Components and their
 * examples as in Meta's template creation docs: BODY `text` with `{{1}}` (example.body_text) or
 * `{{name}}` (example.body_text_named_params), FOOTER, BUTTONS with QUICK_REPLY buttons.
 * Paging is the Graph API's: `data` plus `paging.cursors.{before,after}` and `next` / `previous`
 * only when there is such a page.
 */

export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
export type ParameterFormat = 'POSITIONAL' | 'NAMED';

export interface TemplateSeed {
  readonly name: string;
  /** Meta's locale code, e.g. `en`, `en_US`, `zh_HK`. */
  readonly language: string;
  readonly category: TemplateCategory;
  /** Default APPROVED. */
  readonly status?: string;
  /** Default: NAMED when the body has `{{name}}` parameters, else POSITIONAL. */
  readonly parameterFormat?: ParameterFormat;
  readonly body: string;
  readonly footer?: string;
  readonly quickReplies?: readonly string[];
  /** Only this WABA has it; default every WABA of the stand-in. */
  readonly wabaId?: string;
  readonly id?: string;
}

/** A template as kept: the Meta object plus what sends are checked against. */
export interface StoredTemplate {
  readonly wabaId: string | undefined;
  readonly name: string;
  readonly language: string;
  readonly status: string;
  readonly category: TemplateCategory;
  readonly parameterFormat: ParameterFormat;
  /** `['1','2']` for positional, the names for named. */
  readonly bodyParameters: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
}

export const DEFAULT_TEMPLATES: readonly TemplateSeed[] = [
  { name: 'order_update', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.' },
  { name: 'order_update', language: 'zh_HK', category: 'UTILITY', body: '{{1}}你好，你的訂單 {{2}} 現在{{3}}。' },
  {
    name: 'spring_sale',
    language: 'en',
    category: 'MARKETING',
    body: 'Hi {{first_name}}, our spring sale is on: {{discount}} off everything until {{end_date}}.',
    footer: 'Not interested? Tap Stop promotions',
    quickReplies: ['Shop now', 'Stop promotions'],
  },
  {
    name: 'otp_code',
    language: 'en',
    category: 'AUTHENTICATION',
    // Meta fixes the authentication body text; a copy-code button is left out (docs list it as a
    // URL button whose exact listing shape this stand-in does not need).
    body: '*{{1}}* is your verification code. For your security, do not share this code.',
  },
  {
    name: 'paused_promo',
    language: 'en',
    category: 'MARKETING',
    status: 'PAUSED',
    body: 'Hi {{1}}, {{2}} is back in stock.',
    quickReplies: ['Stop promotions'],
  },
  { name: 'winter_teaser', language: 'en', category: 'MARKETING', status: 'REJECTED', body: 'Big news soon!' },
  // The automations' templates (config/automation.json; docs/automation.md lists them to submit to Meta).
  { name: 'logistics_update', language: 'en', category: 'UTILITY', body: 'Hi {{first_name}}, your parcel {{tracking_number}} {{status}}. {{eta}}' },
  { name: 'logistics_update', language: 'zh_HK', category: 'UTILITY', body: '{{first_name}}你好，你的包裹 {{tracking_number}} {{status}}。{{eta}}' },
  { name: 'logistics_update', language: 'zh_CN', category: 'UTILITY', body: '{{first_name}}您好，您的包裹 {{tracking_number}} {{status}}。{{eta}}' },
  { name: 'logistics_update', language: 'ru', category: 'UTILITY', body: '{{first_name}}, ваша посылка {{tracking_number}} {{status}}. {{eta}}' },
  { name: 'coupon_offer', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, here is {{discount}} off your next order: code {{code}}, valid until {{expires}}.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'coupon_offer', language: 'zh_HK', category: 'MARKETING', body: '{{first_name}}你好，送你 {{discount}} 折扣，優惠碼 {{code}}，有效期至 {{expires}}。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'coupon_offer', language: 'zh_CN', category: 'MARKETING', body: '{{first_name}}您好，送您 {{discount}} 折扣，优惠码 {{code}}，有效期至 {{expires}}。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'coupon_offer', language: 'ru', category: 'MARKETING', body: '{{first_name}}, скидка {{discount}} на следующий заказ: код {{code}}, до {{expires}}.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'store_visit_offer', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, come and see us at {{store}}: {{amount}} off with code {{code}}.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'store_visit_offer', language: 'zh_HK', category: 'MARKETING', body: '{{first_name}}你好，歡迎到{{store}}選購：憑優惠碼 {{code}} 減 {{amount}}。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'store_visit_offer', language: 'zh_CN', category: 'MARKETING', body: '{{first_name}}您好，欢迎到{{store}}选购：凭优惠码 {{code}} 减 {{amount}}。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'store_visit_offer', language: 'ru', category: 'MARKETING', body: '{{first_name}}, ждём вас в магазине {{store}}: скидка {{amount}} по коду {{code}}.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'replenishment_reminder', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, running out of the {{product}} you bought {{last_purchase}}? Reply to reorder.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'replenishment_reminder', language: 'zh_HK', category: 'MARKETING', body: '{{first_name}}你好，你{{last_purchase}}買的{{product}}快用完了嗎？回覆即可再訂。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'replenishment_reminder', language: 'zh_CN', category: 'MARKETING', body: '{{first_name}}您好，您{{last_purchase}}买的{{product}}快用完了吗？回复即可再订。', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'replenishment_reminder', language: 'ru', category: 'MARKETING', body: '{{first_name}}, заканчивается {{product}}, купленный {{last_purchase}}? Ответьте, чтобы заказать снова.', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'sample_request', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, would you like to try {{product}} first? Ask for a free sample: {{link}}', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'sample_request', language: 'zh_HK', category: 'MARKETING', body: '{{first_name}}你好，想先試用{{product}}嗎？免費索取試用裝：{{link}}', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'sample_request', language: 'zh_CN', category: 'MARKETING', body: '{{first_name}}您好，想先试用{{product}}吗？免费申请试用装：{{link}}', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
  { name: 'sample_request', language: 'ru', category: 'MARKETING', body: '{{first_name}}, хотите сначала попробовать {{product}}? Бесплатный образец: {{link}}', footer: 'Not interested? Tap Stop promotions', quickReplies: ['Stop promotions'] },
];

const PARAMETER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

export function bodyParametersOf(body: string): string[] {
  const names: string[] = [];
  for (const match of body.matchAll(PARAMETER)) {
    const name = match[1] ?? '';
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

let nextId = 1_166_414_785_519_000;

export function storeTemplate(seed: TemplateSeed): StoredTemplate {
  const bodyParameters = bodyParametersOf(seed.body);
  const parameterFormat = seed.parameterFormat ?? (bodyParameters.some((p) => !/^\d+$/.test(p)) ? 'NAMED' : 'POSITIONAL');
  const status = seed.status ?? 'APPROVED';
  const example =
    bodyParameters.length === 0
      ? undefined
      : parameterFormat === 'NAMED'
        ? { body_text_named_params: bodyParameters.map((p) => ({ param_name: p, example: `${p} example` })) }
        : { body_text: [bodyParameters.map((p) => `example ${p}`)] };
  const components: Record<string, unknown>[] = [{ type: 'BODY', text: seed.body, ...(example && { example }) }];
  if (seed.footer) components.push({ type: 'FOOTER', text: seed.footer });
  if (seed.quickReplies?.length) {
    components.push({ type: 'BUTTONS', buttons: seed.quickReplies.map((text) => ({ type: 'QUICK_REPLY', text })) });
  }
  return {
    wabaId: seed.wabaId,
    name: seed.name,
    language: seed.language,
    status,
    category: seed.category,
    parameterFormat,
    bodyParameters,
    meta: {
      name: seed.name,
      parameter_format: parameterFormat,
      components,
      language: seed.language,
      status,
      category: seed.category,
      id: seed.id ?? String(nextId++),
    },
  };
}

/** Graph's default page size; the maximum is not documented for this edge, so it is capped at 500. */
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 500;

const cursorOf = (index: number) => Buffer.from(`offset:${index}`).toString('base64url');
function indexOf(cursor: string | null): number | undefined {
  if (!cursor) return undefined;
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/**
 * One page of a WABA's templates. Query: `limit`, `after`, `before`, `fields` (comma separated;
 * `id` always comes), and the filters `name`, `status`, `category`, `language`.
 * Returns undefined for a cursor it did not make (the caller answers an error).
 */
export function listTemplates(templates: readonly StoredTemplate[], query: URLSearchParams, pageUrl: string) {
  const filters = ['name', 'status', 'category', 'language'] as const;
  const matching = templates.filter((t) =>
    filters.every((f) => {
      const wanted = query.get(f);
      return !wanted || String(t.meta[f]).toLowerCase() === wanted.toLowerCase();
    }),
  );
  const limit = Math.min(Math.max(Number(query.get('limit') ?? DEFAULT_LIMIT) || DEFAULT_LIMIT, 1), MAX_LIMIT);
  const after = indexOf(query.get('after'));
  const before = indexOf(query.get('before'));
  if ((query.get('after') && after === undefined) || (query.get('before') && before === undefined)) return undefined;
  const start = after !== undefined ? after + 1 : before !== undefined ? Math.max(0, before - limit) : 0;
  const end = before !== undefined && after === undefined ? before : start + limit;
  const page = matching.slice(start, Math.min(end, matching.length));

  const fields = query.get('fields')?.split(',').map((f) => f.trim()).filter(Boolean);
  const data = page.map((t) =>
    fields ? Object.fromEntries(Object.entries(t.meta).filter(([key]) => key === 'id' || fields.includes(key))) : t.meta,
  );
  if (page.length === 0) return { data };

  const link = (cursor: 'after' | 'before', index: number) => {
    const params = new URLSearchParams(query);
    params.delete('after');
    params.delete('before');
    params.set('limit', String(limit));
    params.set(cursor, cursorOf(index));
    return `${pageUrl}?${params.toString()}`;
  };
  const last = start + page.length - 1;
  return {
    data,
    paging: {
      cursors: { before: cursorOf(start), after: cursorOf(last) },
      ...(start > 0 && { previous: link('before', start) }),
      ...(last < matching.length - 1 && { next: link('after', last) }),
    },
  };
}
