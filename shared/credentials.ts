/**
 * How old each API token is (OP-5): the daily credential check emits it as a metric and the
 * alarm fires above {@link CREDENTIAL_MAX_AGE_DAYS}. Kept apart from secrets.ts, which every
 * function loads at start.
 */
import { SECRET_PLACEHOLDER } from './resources.ts';
import type { SecretSource } from './secrets.ts';

/** Tokens older than this are alarmed (OP-5: rotate at least every 30 days). */
export const CREDENTIAL_MAX_AGE_DAYS = 25;

export interface CredentialAge {
  readonly credential: 'hubspot' | 'whatsapp';
  /** Whole days and tenths since the last rotation; undefined when no rotation date is known. */
  readonly ageDays: number | undefined;
  /** Where the date came from. */
  readonly source: 'rotated-at' | 'secret-version' | 'unknown';
}

/**
 * The age of every token the secrets hold (OP-5): from its `<KEY>_ROTATED_AT`, else from when the
 * secret's value was last written, else unknown.
 */
export async function credentialAges(source: SecretSource, now: number): Promise<CredentialAge[]> {
  const secrets = await source.refresh();
  const written = await source.writtenAt();
  const ages: CredentialAge[] = [];
  const age = (at: number) => Math.round(((now - at) / 86_400_000) * 10) / 10;
  const tokens = [
    ['hubspot', secrets.hubspotAccessToken, secrets.rotatedAt.hubspotAccessToken],
    ['whatsapp', secrets.whatsappAccessToken, secrets.rotatedAt.whatsappAccessToken],
  ] as const;
  for (const [credential, token, rotatedAt] of tokens) {
    if (!token || token === SECRET_PLACEHOLDER) continue;
    if (rotatedAt !== undefined) ages.push({ credential, ageDays: age(rotatedAt), source: 'rotated-at' });
    else if (written !== undefined) ages.push({ credential, ageDays: age(written), source: 'secret-version' });
    else ages.push({ credential, ageDays: undefined, source: 'unknown' });
  }
  return ages;
}
