/**
 * What may be kept of text that came from outside (a CRM's error answer): never the personal data
 * it may echo (OP-4, invariant 7). Errors are logged, stored on the message row and put on DLQ
 * messages, so their text is redacted before it becomes an error at all.
 */

/** Longest redacted text kept. */
const MAX_LENGTH = 300;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;
/** Phone numbers, ids and amounts: four or more digits, with the separators people write. */
const NUMBER = /\+?\d(?:[\d\s().-]{2,}\d)/g;
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|“[^”]*”|«[^»]*»/g;
/** A quoted internal name (a CRM property such as "whatsapp_phone"): lowercase, digits, underscores. */
const INTERNAL_NAME = /^["'“«][a-z][a-z0-9_]{0,63}["'”»]$/;
const PARENTHESISED = /\([^)]*\)|\[[^\]]*\]|\{[^}]*\}/g;

/**
 * Keeps the shape of a message and drops the values: e-mail addresses, numbers of four digits or
 * more, anything quoted (but a lowercase internal name such as "whatsapp_phone") and anything in
 * brackets become `[…]`. "Email jane@x.com is not valid for contact +852 9123 4567 (Jane Doe)" →
 * "Email […] is not valid for contact […] […]".
 */
export function redact(text: string): string {
  const out = text.replace(QUOTED, (m) => (INTERNAL_NAME.test(m) ? m : '[…]')).replace(PARENTHESISED, '[…]').replace(EMAIL, '[…]').replace(NUMBER, (m) => (m.replace(/\D/g, '').length >= 4 ? '[…]' : m));
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH)}…` : out;
}
