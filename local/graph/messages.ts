/**
 * `POST /<PHONE_NUMBER_ID>/messages` bodies, checked the way the Cloud API checks them, and the
 * success answer.
 *
 * Addressing (https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids):
 * `to` is a phone number, `recipient` a BSUID or parent BSUID (`US.13491208655302741918`,
 * `US.ENT.11815799212886844830`: ISO 3166 alpha-2 code, a period, up to 128 alphanumerics); both
 * may be given and then `to` wins. `recipient_type` defaults to "individual". BSUIDs can carry any
 * message except authentication templates (error 131062).
 * A BSUID in `to` is answered 200 and the message is never delivered (no status webhook): the
 * behaviour this stand-in is asked to mimic; Meta's docs do not describe it.
 *
 * Success answer (same page, "Send message responses"):
 *   {"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.…"}]}
 * with `user_id` instead of `wa_id` for a BSUID send, and both when `to` and `recipient` came.
 *
 * Limits checked (Meta's message reference): text body ≤ 4096; interactive body ≤ 1024, header and
 * footer ≤ 60, 1–3 reply buttons with titles ≤ 20 and ids ≤ 256, a list button ≤ 20, ≤ 10 sections and
 * ≤ 10 rows in all (row titles ≤ 24); media by exactly one of `id` and `link`; captions ≤ 1024;
 * biz_opaque_callback_data ≤ 512. Which code Meta gives for each broken field is not documented:
 * a missing field is `(#100) The parameter … is required.`, a bad value 131009 with the reason.
 */
import { whatsappError, type GraphErrorAnswer } from './errors.ts';
import type { StoredTemplate } from './templates.ts';

export const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;
const PHONE = /^\+?[0-9]{6,15}$/;

export type Address =
  | { readonly kind: 'phone'; readonly digits: string; readonly bsuid?: string | undefined }
  | { readonly kind: 'bsuid'; readonly bsuid: string }
  /** A BSUID put in `to`: accepted, never delivered. */
  | { readonly kind: 'bsuid_in_to'; readonly value: string };

export interface ParsedSend {
  readonly to: string | undefined;
  readonly recipient: string | undefined;
  readonly address: Address;
  readonly type: string;
  /** One line for people: the text, the template and its language, the caption… */
  readonly summary: string;
  readonly template: StoredTemplate | undefined;
  readonly callbackData: string | undefined;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: GraphErrorAnswer };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const required = (param: string): Checked<never> => ({
  ok: false,
  error: whatsappError(100, { title: `The parameter ${param} is required.`, details: `The parameter ${param} is required.` }),
});
const invalid = (details: string, code = 131009): Checked<never> => ({ ok: false, error: whatsappError(code, { details }) });

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

export interface SendContext {
  /** The templates of the sending number's WABA. */
  readonly templates: readonly StoredTemplate[];
  /** The sending number's digits (a message to itself is 131021). */
  readonly businessDigits: string;
}

/** The addressing fields as sent, for the record even when the body is refused. */
export function addressingOf(body: unknown): { to: string | undefined; recipient: string | undefined } {
  const b = asObject(body) ?? {};
  return { to: typeof b.to === 'string' ? b.to : undefined, recipient: typeof b.recipient === 'string' ? b.recipient : undefined };
}

export function parseSend(body: unknown, context: SendContext): Checked<ParsedSend> {
  const b = asObject(body);
  if (!b) return required('messaging_product');
  if (b.messaging_product === undefined) return required('messaging_product');
  if (b.messaging_product !== 'whatsapp') return invalid(`messaging_product must be "whatsapp"`, 100);

  const address = parseAddress(b, context);
  if (!address.ok) return address;
  const content = parseContent(b, context);
  if (!content.ok) return content;

  const callbackData = b.biz_opaque_callback_data;
  if (callbackData !== undefined && (typeof callbackData !== 'string' || callbackData.length > 512)) {
    return invalid('biz_opaque_callback_data must be a string of at most 512 characters');
  }
  const template = content.value.template;
  if (template?.category === 'AUTHENTICATION' && address.value.kind === 'bsuid') {
    return { ok: false, error: whatsappError(131062) };
  }
  const { to, recipient } = addressingOf(b);
  return ok({ to, recipient, address: address.value, ...content.value, callbackData: callbackData as string | undefined });
}

function parseAddress(b: Record<string, unknown>, context: SendContext): Checked<Address> {
  const recipientType = b.recipient_type ?? 'individual';
  if (recipientType !== 'individual') return invalid(`recipient_type must be "individual" (groups are not supported here)`);
  const { to, recipient } = addressingOf(b);
  if (b.to !== undefined && !isText(to)) return invalid('to must be a phone number', 100);
  if (b.recipient !== undefined && !isText(recipient)) return invalid('recipient must be a business-scoped user ID', 100);
  if (recipient !== undefined && !BSUID.test(recipient)) {
    return invalid('recipient must be a business-scoped user ID: a country code, a period and alphanumeric characters');
  }
  if (to !== undefined) {
    if (BSUID.test(to)) return ok({ kind: 'bsuid_in_to', value: to });
    if (!PHONE.test(to)) return invalid('to must be a phone number: digits with the country code, optionally after a +', 100);
    const digits = to.replace(/^\+/, '');
    if (digits === context.businessDigits) return { ok: false, error: whatsappError(131021) };
    return ok({ kind: 'phone', digits, bsuid: recipient });
  }
  if (recipient !== undefined) return ok({ kind: 'bsuid', bsuid: recipient });
  return required('to');
}

type Content = Pick<ParsedSend, 'type' | 'summary' | 'template'>;

function parseContent(b: Record<string, unknown>, context: SendContext): Checked<Content> {
  const type = b.type ?? 'text';
  if (typeof type !== 'string') return invalid('type must be a string', 100);
  switch (type) {
    case 'text': {
      const text = asObject(b.text);
      if (!text || !isText(text.body)) return required("text['body']");
      if (text.body.length > 4096) return invalid('text.body is longer than 4096 characters');
      if (text.preview_url !== undefined && typeof text.preview_url !== 'boolean') return invalid('text.preview_url must be a boolean');
      return ok({ type, summary: text.body, template: undefined });
    }
    case 'template':
      return parseTemplate(b.template, context);
    case 'interactive':
      return parseInteractive(b.interactive);
    case 'image':
    case 'document': {
      const media = asObject(b[type]);
      if (!media) return required(type);
      if (isText(media.id) === isText(media.link)) return invalid(`${type} needs exactly one of id and link`);
      if (media.caption !== undefined && (typeof media.caption !== 'string' || media.caption.length > 1024)) {
        return invalid(`${type}.caption must be a string of at most 1024 characters`);
      }
      const what = [media.filename, media.caption, media.id ?? media.link].filter(isText).join(' · ');
      return ok({ type, summary: `[${type}] ${what}`, template: undefined });
    }
    default:
      return { ok: false, error: whatsappError(131051, { details: `Message type ${type} is not supported by this stand-in.` }) };
  }
}

function parseTemplate(value: unknown, context: SendContext): Checked<Content> {
  const t = asObject(value);
  if (!t) return required('template');
  if (!isText(t.name)) return required("template['name']");
  const language = asObject(t.language);
  if (!language || !isText(language.code)) return required("template['language']['code']");
  const name = t.name;
  const code = language.code;

  const template = context.templates.find((s) => s.name === name && s.language === code);
  if (!template) {
    return { ok: false, error: whatsappError(132001, { details: `template name (${name}) does not exist in ${code}` }) };
  }
  if (template.status === 'PAUSED') return { ok: false, error: whatsappError(132015) };
  if (template.status === 'DISABLED') return { ok: false, error: whatsappError(132016) };
  if (template.status !== 'APPROVED') {
    return { ok: false, error: whatsappError(132001, { details: `template name (${name}) is ${template.status}, not approved` }) };
  }

  const components = Array.isArray(t.components) ? t.components.map(asObject) : [];
  const body = components.find((c) => String(c?.type).toLowerCase() === 'body');
  const parameters = Array.isArray(body?.parameters) ? body.parameters.map((p) => asObject(p) ?? {}) : [];
  if (parameters.length !== template.bodyParameters.length) {
    return {
      ok: false,
      error: whatsappError(132000, {
        details: `body: number of localizable_params (${parameters.length}) does not match the expected number of params (${template.bodyParameters.length})`,
      }),
    };
  }
  const values: string[] = [];
  for (const [index, p] of parameters.entries()) {
    const value = parameterValue(p);
    if (value === undefined) return invalid(`body parameter ${index + 1} has no value for its type`);
    if (template.parameterFormat === 'NAMED') {
      if (!isText(p.parameter_name) || !template.bodyParameters.includes(p.parameter_name)) {
        return {
          ok: false,
          error: whatsappError(132012, {
            details: `body parameter ${index + 1} must have a parameter_name among ${template.bodyParameters.join(', ')}`,
          }),
        };
      }
      values.push(`${p.parameter_name}=${value}`);
    } else {
      values.push(value);
    }
  }
  const summary = `${name} (${code})${values.length ? `: ${values.join(', ')}` : ''}`;
  return ok({ type: 'template', summary, template });
}

function parameterValue(p: Record<string, unknown>): string | undefined {
  switch (p.type) {
    case 'text':
      return typeof p.text === 'string' ? p.text : undefined;
    case 'currency':
      return typeof asObject(p.currency)?.fallback_value === 'string' ? String(asObject(p.currency)?.fallback_value) : undefined;
    case 'date_time':
      return typeof asObject(p.date_time)?.fallback_value === 'string' ? String(asObject(p.date_time)?.fallback_value) : undefined;
    default:
      return undefined;
  }
}

function parseInteractive(value: unknown): Checked<Content> {
  const i = asObject(value);
  if (!i) return required('interactive');
  if (!isText(i.type)) return required("interactive['type']");
  const body = asObject(i.body);
  if (!body || !isText(body.text)) return required("interactive['body']['text']");
  if (body.text.length > 1024) return invalid('interactive.body.text is longer than 1024 characters');
  const header = asObject(i.header);
  if (header?.type === 'text' && (!isText(header.text) || header.text.length > 60)) return invalid('interactive.header.text must have 1 to 60 characters');
  const footer = asObject(i.footer);
  if (footer && (!isText(footer.text) || footer.text.length > 60)) return invalid('interactive.footer.text must have 1 to 60 characters');
  const action = asObject(i.action);

  if (i.type === 'button') {
    const buttons = Array.isArray(action?.buttons) ? action.buttons.map((x) => asObject(x) ?? {}) : [];
    if (buttons.length < 1 || buttons.length > 3) return invalid('interactive.action.buttons must have 1 to 3 buttons');
    const titles: string[] = [];
    for (const button of buttons) {
      const reply = asObject(button.reply);
      if (button.type !== 'reply' || !reply) return invalid('each button must be {"type":"reply","reply":{id,title}}');
      if (!isText(reply.title) || reply.title.length > 20) return invalid('Button title length invalid. Min length: 1, Max length: 20');
      if (!isText(reply.id) || reply.id.length > 256) return invalid('Button id length invalid. Min length: 1, Max length: 256');
      titles.push(reply.title);
    }
    return ok({ type: 'interactive', summary: `${body.text} [${titles.join(' | ')}]`, template: undefined });
  }
  if (i.type === 'list') {
    if (!isText(action?.button) || action.button.length > 20) return invalid('interactive.action.button must have 1 to 20 characters');
    const sections = Array.isArray(action.sections) ? action.sections.map((x) => asObject(x) ?? {}) : [];
    if (sections.length < 1 || sections.length > 10) return invalid('interactive.action.sections must have 1 to 10 sections');
    const rows = sections.flatMap((s) => (Array.isArray(s.rows) ? s.rows.map((r) => asObject(r) ?? {}) : []));
    if (rows.length < 1 || rows.length > 10) return invalid('a list must have 1 to 10 rows in all');
    for (const row of rows) {
      if (!isText(row.title) || row.title.length > 24) return invalid('Row title length invalid. Min length: 1, Max length: 24');
      if (!isText(row.id) || row.id.length > 200) return invalid('Row id length invalid. Min length: 1, Max length: 200');
    }
    return ok({ type: 'interactive', summary: `${body.text} [list: ${rows.map((r) => String(r.title)).join(' | ')}]`, template: undefined });
  }
  // Other interactive types (cta_url, flow, product…) are accepted as they come.
  return ok({ type: 'interactive', summary: `${body.text} [${i.type}]`, template: undefined });
}

/** The 200 answer of an accepted send (dropped ones included: Meta answers those alike). */
export function sendAnswer(send: ParsedSend, wamid: string) {
  const a = send.address;
  const contact =
    a.kind === 'phone'
      ? { input: send.to, wa_id: a.digits, ...(a.bsuid && { user_id: a.bsuid }) }
      : a.kind === 'bsuid'
        ? { input: send.recipient, user_id: a.bsuid }
        : // What Meta puts in wa_id for a BSUID in `to` is not documented: the input, echoed.
          { input: send.to, wa_id: a.value };
  return { messaging_product: 'whatsapp', contacts: [contact], messages: [{ id: wamid }] };
}
