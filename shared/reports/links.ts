/**
 * Links to stored reports, announced on the reports topic: `/reports/<name>?exp=<unix s>&sig=…`,
 * signed with the media links' key (shared/media/links.ts) and valid {@link REPORT_LINK_DAYS} days.
 * Opening one answers a redirect to a presigned S3 URL made at that moment (valid 5 minutes), so
 * the bucket stays private and a forwarded e-mail stops working when the link expires.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { REPORT_FORMATS, REPORT_KINDS } from './schema.ts';

export const REPORT_ROUTE = '/reports';
export const REPORT_LINK_DAYS = 30;
/** `weekly-2026-11-23.html`, `latest-daily.json`. */
export const REPORT_NAME = new RegExp(`^(?:(${REPORT_KINDS.join('|')})-(\\d{4}-\\d{2}-\\d{2})|latest-(${REPORT_KINDS.join('|')}))\\.(${REPORT_FORMATS.join('|')})$`);

/** The S3 key of a stored report. */
export function reportKey(name: string): string | undefined {
  const match = REPORT_NAME.exec(name);
  if (!match) return undefined;
  const [, kind, day, latest, format] = match;
  return latest ? `reports/latest/${latest}.${format}` : `reports/${kind}/${day}.${format}`;
}

export function reportSignature(key: string, name: string, expires: number): string {
  return createHmac('sha256', key).update(`report:${name}:${expires}`).digest('base64url').slice(0, 32);
}

export function reportLink(publicUrl: string, key: string, name: string, now: number): string {
  const expires = Math.floor(now / 1000) + REPORT_LINK_DAYS * 86_400;
  return `${publicUrl.replace(/\/+$/, '')}${REPORT_ROUTE}/${encodeURIComponent(name)}?exp=${expires}&sig=${reportSignature(key, name, expires)}`;
}

/** Why a link does not open the report, or undefined when it does. */
export function reportLinkProblem(key: string, name: string, exp: string | undefined, sig: string | undefined, now: number): string | undefined {
  const expires = Number(exp);
  if (!exp || !Number.isInteger(expires) || !sig) return 'the report link is not valid: exp and sig are required (copy the whole link)';
  const expected = Buffer.from(reportSignature(key, name, expires));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the report link is not valid: its sig does not match (copy the whole link)';
  if (expires * 1000 < now) return `the report link expired on ${new Date(expires * 1000).toISOString()}: open the report from the latest announcement`;
  return undefined;
}
