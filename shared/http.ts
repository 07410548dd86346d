/** Small pieces every HTTP adapter of an external API needs (the CRM, Meta's Graph API). */

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); ms to wait. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A response body as JSON when it is JSON, else its text (null when empty). */
export function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
