/**
 * The JSON body of Meta's `POST /{version}/{phone_number_id}/messages`, built from a
 * {@link SendRequest}. Both channels send exactly this (End User Messaging Social passes it through
 * to Meta), so addressing, `biz_opaque_callback_data` and Meta's limits live in one pure place.
 *
 * Addressing: a customer with a phone is sent to by `to` (digits, no `+`); a customer known only
 * by a business-scoped user id (BSUID) by `recipient`. A BSUID never goes into `to`: Meta would
 * read it as a phone number.
 *
 * Meta's limits are checked here, before anything is sent, so a request Meta would refuse fails
 * locally with an {@link OutboundContentError} that names the field (a bug or bad input, not a
 * retry). Sources: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages and
 * the interactive/template pages it links (limits cross-checked with WhatsApp's own Node SDK docs).
 */
import type { Address, OutboundContent, SendRequest, TemplateParameters } from './channel.ts';

/** A request that cannot be sent as it is: `field` is the path of the offending value. */
export class OutboundContentError extends Error {
  override readonly name = 'OutboundContentError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Meta's limits, in characters (code points). */
export const MESSAGE_LIMITS = {
  textBody: 4096,
  interactiveBody: 1024,
  headerText: 60,
  footerText: 60,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  listSections: 10,
  listRows: 10,
  sectionTitle: 24,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  caption: 1024,
  callbackData: 512,
} as const;

/** E.164 as the port carries it (`+` optional here, digits only, 8–15 of them). */
const E164 = /^\+?[1-9]\d{7,14}$/;
/** A BSUID: ISO country code, a dot, optionally `ENT.` (a parent BSUID), up to 128 letters/digits. */
const BSUID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

/** True when the customer is addressed by BSUID (sent as `recipient`, never as `to`). */
export function isBsuidAddress(address: Address): address is { readonly bsuid: string; readonly phone?: undefined } {
  return address.phone === undefined && typeof address.bsuid === 'string';
}

export function messageBody(request: SendRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { messaging_product: 'whatsapp', recipient_type: 'individual', ...addressing(request.to) };
  if (request.replyTo !== undefined) body.context = { message_id: nonEmpty('replyTo', request.replyTo) };
  if (request.callbackData !== '') {
    body.biz_opaque_callback_data = within('callbackData', request.callbackData, MESSAGE_LIMITS.callbackData);
  }
  return { ...body, ...content(request.content) };
}

function addressing(to: Address): Record<string, string> {
  if (to.phone !== undefined) {
    if (!E164.test(to.phone)) throw new OutboundContentError('to.phone', 'not an E.164 number (+ and 8–15 digits)');
    return { to: to.phone.replace(/^\+/, '') };
  }
  if (typeof to.bsuid === 'string') {
    if (!BSUID.test(to.bsuid)) throw new OutboundContentError('to.bsuid', 'not a business-scoped user id (CC.digits)');
    return { recipient: to.bsuid };
  }
  throw new OutboundContentError('to', 'needs a phone or a BSUID');
}

function content(c: OutboundContent): Record<string, unknown> {
  switch (c.type) {
    case 'text': {
      const text: Record<string, unknown> = { body: within('content.text', nonEmpty('content.text', c.text), MESSAGE_LIMITS.textBody) };
      if (c.previewUrl !== undefined) text.preview_url = c.previewUrl;
      return { type: 'text', text };
    }
    case 'template':
      return { type: 'template', template: template(c.name, c.language, c.parameters) };
    case 'buttons':
      return { type: 'interactive', interactive: buttons(c) };
    case 'list':
      return { type: 'interactive', interactive: list(c) };
    case 'image':
    case 'document':
      return { type: c.type, [c.type]: media(c) };
    default:
      throw new OutboundContentError('content.type', `unknown content type "${(c as { type: unknown }).type}"`);
  }
}

function template(name: string, language: string, parameters: TemplateParameters | undefined) {
  const out: Record<string, unknown> = {
    name: nonEmpty('content.name', name),
    language: { code: nonEmpty('content.language', language) },
  };
  const params = parameters === undefined ? [] : templateParameters(parameters);
  if (params.length > 0) out.components = [{ type: 'body', parameters: params }];
  return out;
}

function templateParameters(parameters: TemplateParameters): Record<string, string>[] {
  if (isPositional(parameters)) {
    return parameters.map((text, i) => ({ type: 'text', text: nonEmpty(`content.parameters.${i}`, text) }));
  }
  return Object.entries(parameters).map(([name, text]) => {
    if (!/^[a-z0-9_]+$/.test(name)) throw new OutboundContentError(`content.parameters.${name}`, 'a named parameter is lowercase letters, digits and _');
    return { type: 'text', parameter_name: name, text: nonEmpty(`content.parameters.${name}`, text) };
  });
}

function isPositional(parameters: TemplateParameters): parameters is readonly string[] {
  return Array.isArray(parameters);
}

type Interactive<T extends OutboundContent['type']> = Extract<OutboundContent, { type: T }>;

function buttons(c: Interactive<'buttons'>) {
  if (c.buttons.length < 1 || c.buttons.length > MESSAGE_LIMITS.buttons) {
    throw new OutboundContentError('content.buttons', `1 to ${MESSAGE_LIMITS.buttons} buttons, not ${c.buttons.length}`);
  }
  unique('content.buttons', c.buttons.map((b) => b.id), 'id');
  unique('content.buttons', c.buttons.map((b) => b.title), 'title');
  return {
    type: 'button',
    ...frame(c),
    action: {
      buttons: c.buttons.map((b, i) => ({
        type: 'reply',
        reply: {
          id: within(`content.buttons.${i}.id`, nonEmpty(`content.buttons.${i}.id`, b.id), MESSAGE_LIMITS.buttonId),
          title: within(`content.buttons.${i}.title`, nonEmpty(`content.buttons.${i}.title`, b.title), MESSAGE_LIMITS.buttonTitle),
        },
      })),
    },
  };
}

function list(c: Interactive<'list'>) {
  const { sections } = c;
  if (sections.length < 1 || sections.length > MESSAGE_LIMITS.listSections) {
    throw new OutboundContentError('content.sections', `1 to ${MESSAGE_LIMITS.listSections} sections, not ${sections.length}`);
  }
  const rows = sections.reduce((n, s) => n + s.rows.length, 0);
  if (rows > MESSAGE_LIMITS.listRows) throw new OutboundContentError('content.sections', `at most ${MESSAGE_LIMITS.listRows} rows in all, not ${rows}`);
  unique('content.sections', sections.flatMap((s) => s.rows.map((r) => r.id)), 'row id');
  return {
    type: 'list',
    ...frame(c),
    action: {
      button: within('content.button', nonEmpty('content.button', c.button), MESSAGE_LIMITS.listButton),
      sections: sections.map((s, i) => listSection(s, `content.sections.${i}`, sections.length > 1)),
    },
  };
}

function listSection(s: Interactive<'list'>['sections'][number], at: string, titleRequired: boolean) {
  if (s.rows.length < 1) throw new OutboundContentError(`${at}.rows`, 'a section needs at least one row');
  const out: Record<string, unknown> = {};
  if (s.title !== undefined) out.title = within(`${at}.title`, nonEmpty(`${at}.title`, s.title), MESSAGE_LIMITS.sectionTitle);
  else if (titleRequired) throw new OutboundContentError(`${at}.title`, 'required when the list has more than one section');
  out.rows = s.rows.map((r, j) => {
    const row: Record<string, string> = {
      id: within(`${at}.rows.${j}.id`, nonEmpty(`${at}.rows.${j}.id`, r.id), MESSAGE_LIMITS.rowId),
      title: within(`${at}.rows.${j}.title`, nonEmpty(`${at}.rows.${j}.title`, r.title), MESSAGE_LIMITS.rowTitle),
    };
    if (r.description !== undefined) row.description = within(`${at}.rows.${j}.description`, r.description, MESSAGE_LIMITS.rowDescription);
    return row;
  });
  return out;
}

/** Header, body and footer of an interactive message. */
function frame(c: { readonly body: string; readonly header?: string | undefined; readonly footer?: string | undefined }) {
  const out: Record<string, unknown> = {};
  if (c.header !== undefined) out.header = { type: 'text', text: within('content.header', nonEmpty('content.header', c.header), MESSAGE_LIMITS.headerText) };
  out.body = { text: within('content.body', nonEmpty('content.body', c.body), MESSAGE_LIMITS.interactiveBody) };
  if (c.footer !== undefined) out.footer = { text: within('content.footer', nonEmpty('content.footer', c.footer), MESSAGE_LIMITS.footerText) };
  return out;
}

function media(c: Interactive<'image' | 'document'>) {
  const hasId = c.mediaId !== undefined && c.mediaId !== '';
  const hasLink = c.link !== undefined && c.link !== '';
  if (hasId === hasLink) throw new OutboundContentError('content.mediaId', 'exactly one of mediaId and link, not both or neither');
  const out: Record<string, string> = {};
  if (hasId) out.id = c.mediaId!;
  else {
    if (!/^https:\/\/[^\s/]+/.test(c.link!)) throw new OutboundContentError('content.link', 'a public https URL');
    out.link = c.link!;
  }
  if (c.caption !== undefined) out.caption = within('content.caption', c.caption, MESSAGE_LIMITS.caption);
  if (c.filename !== undefined) {
    if (c.type !== 'document') throw new OutboundContentError('content.filename', 'only a document has a filename');
    out.filename = nonEmpty('content.filename', c.filename);
  }
  return out;
}

function nonEmpty(field: string, value: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new OutboundContentError(field, 'must not be empty');
  return value;
}

function within(field: string, value: string, max: number): string {
  const length = [...value].length;
  if (length > max) throw new OutboundContentError(field, `${length} characters; Meta's limit is ${max}`);
  return value;
}

function unique(field: string, values: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new OutboundContentError(field, `${what} "${v}" appears twice; each must be unique`);
    seen.add(v);
  }
}
