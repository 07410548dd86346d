/**
 * Links to stored media (MD-1), written into the CRM with each media message: a person opening
 * one is sent on to a presigned S3 URL made at that moment (valid 5 minutes), so the bucket is
 * never public and a link copied out of the CRM never exposes a long-lived S3 URL. The link is
 * a capability — `/media/<wamid>?sig=<HMAC-SHA256(key, wamid)>` — because a CRM user clicking it
 * cannot send the API's bearer token. The key is `SCRM_MEDIA_LINK_KEY`, or derived from the Meta
 * app secret when that is not set (then rotating the app secret retires the old links).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Secrets } from '../config.ts';

/** The route the links point at (the HTTP API's, beside `/api`). */
export const MEDIA_ROUTE = '/media';

/** How long the presigned S3 URL a link leads to is valid. */
export const MEDIA_URL_SECONDS = 300;

export function mediaLinkKey(secrets: Pick<Secrets, 'mediaLinkKey' | 'appSecret'>): string {
  return secrets.mediaLinkKey ?? createHmac('sha256', secrets.appSecret).update('scrm media links v1').digest('base64url');
}

export function mediaSignature(key: string, wamid: string): string {
  return createHmac('sha256', key).update(`media:${wamid}`).digest('base64url').slice(0, 32);
}

/** The link to a message's media, under the API's public URL. */
export function mediaLink(publicUrl: string, key: string, wamid: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${MEDIA_ROUTE}/${encodeURIComponent(wamid)}?sig=${mediaSignature(key, wamid)}`;
}

export function validMediaSignature(key: string, wamid: string, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(mediaSignature(key, wamid));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
