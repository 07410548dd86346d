/**
 * Tracked links (AU-8): every `https://` URL in an outbound text or template parameter becomes a
 * short link of its own — `<SCRM_LINK_BASE_URL>/l/<token>` — that answers a redirect to the URL
 * and records the click. The token is 128 bits of HMAC-SHA256(link key, our message id and the
 * URL's position): unguessable, the same for a retried submit of the same message, and it carries
 * nothing about the customer (who it was sent to is on the link's record, not in the URL).
 */
import { createHmac } from 'node:crypto';
import catalogue from '../../config/intelligence/catalogue.json' with { type: 'json' };
import type { OutboundContent } from '../whatsapp/outbound/channel.ts';

export const LINK_ROUTE = '/l';
/** A URL as customers paste them: up to white space or markup, without the sentence's last punctuation. */
const URL_PATTERN = /https:\/\/[^\s<>"'`]+/gu;
const TRAILING = /[.,;:!?)\]}»”’]+$/u;

/** The key the tokens are made with, from the media links' key (one secret, two purposes kept apart). */
export function linkKey(mediaKey: string): string {
  return createHmac('sha256', mediaKey).update('scrm tracked links v1').digest('base64url');
}

export function linkToken(key: string, outboundId: string, index: number): string {
  return createHmac('sha256', key).update(`${outboundId}#${index}`).digest('base64url').slice(0, 22);
}

export interface TrackedUrl {
  readonly index: number;
  readonly url: string;
  readonly token: string;
}

/** Every https URL of a text replaced by its short link, in order. */
function rewrite(text: string, next: (url: string) => string): string {
  return text.replace(URL_PATTERN, (match) => {
    const trailing = TRAILING.exec(match)?.[0] ?? '';
    const url = trailing ? match.slice(0, -trailing.length) : match;
    return url.length > 'https://'.length ? `${next(url)}${trailing}` : match;
  });
}

/**
 * The content with its links tracked, and the links made. Texts, template parameters, button and
 * list bodies are rewritten; media links (`image.link`) are Meta's to fetch and are left alone.
 */
export function trackContent(content: OutboundContent, options: { readonly key: string; readonly baseUrl: string; readonly outboundId: string }): { content: OutboundContent; links: TrackedUrl[] } {
  const links: TrackedUrl[] = [];
  const base = options.baseUrl.replace(/\/+$/, '');
  const next = (url: string) => {
    const index = links.length;
    const token = linkToken(options.key, options.outboundId, index);
    links.push({ index, url, token });
    return `${base}${LINK_ROUTE}/${token}`;
  };
  switch (content.type) {
    case 'text':
      return { content: { ...content, text: rewrite(content.text, next) }, links };
    case 'template': {
      const p = content.parameters;
      if (!p) return { content, links };
      const parameters = Array.isArray(p) ? p.map((v: string) => rewrite(v, next)) : Object.fromEntries(Object.entries(p as Record<string, string>).map(([k, v]) => [k, rewrite(v, next)]));
      return { content: { ...content, parameters }, links };
    }
    case 'buttons':
    case 'list':
      return { content: { ...content, body: rewrite(content.body, next) }, links };
    default:
      return { content, links };
  }
}

const SKUS = catalogue.products.map((p) => p.sku.toLowerCase());
/** The catalogue SKU a product URL names (`…/products/apl-ip15pm`), when it names one. */
export function skuOf(url: string): string | undefined {
  const lower = url.toLowerCase();
  // The longest first: APL-IP15PM before APL-IP15P.
  const found = [...SKUS].sort((a, b) => b.length - a.length).find((sku) => lower.includes(sku));
  return found && catalogue.products.find((p) => p.sku.toLowerCase() === found)?.sku;
}
