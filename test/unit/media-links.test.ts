/** The media links written into the CRM (shared/media/links.ts): signed per message, checked in constant time. */
import { describe, expect, it } from 'vitest';
import { mediaLink, mediaLinkKey, mediaSignature, validMediaSignature } from '#shared/media/links';

describe('media links', () => {
  const key = 'k'.repeat(32);
  it('point at /media/<wamid> under the API with a signature of that message only', () => {
    const link = mediaLink('https://abc.execute-api.ap-east-1.amazonaws.com/', key, 'wamid.HBgL+/=');
    expect(link).toBe(`https://abc.execute-api.ap-east-1.amazonaws.com/media/wamid.HBgL%2B%2F%3D?sig=${mediaSignature(key, 'wamid.HBgL+/=')}`);
    expect(mediaSignature(key, 'wamid.a')).not.toBe(mediaSignature(key, 'wamid.b'));
    expect(mediaSignature(key, 'wamid.a')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('are valid only with their own signature and key', () => {
    const sig = mediaSignature(key, 'wamid.a');
    expect(validMediaSignature(key, 'wamid.a', sig)).toBe(true);
    expect(validMediaSignature(key, 'wamid.b', sig)).toBe(false);
    expect(validMediaSignature('other'.repeat(8), 'wamid.a', sig)).toBe(false);
    expect(validMediaSignature(key, 'wamid.a', undefined)).toBe(false);
    expect(validMediaSignature(key, 'wamid.a', sig.slice(0, -1))).toBe(false);
  });

  it('use SCRM_MEDIA_LINK_KEY, else a key derived from the app secret (never the app secret itself)', () => {
    expect(mediaLinkKey({ mediaLinkKey: key, appSecret: 'app-secret-1' })).toBe(key);
    const derived = mediaLinkKey({ mediaLinkKey: undefined, appSecret: 'app-secret-1' });
    expect(derived).not.toBe('app-secret-1');
    expect(derived).toBe(mediaLinkKey({ mediaLinkKey: undefined, appSecret: 'app-secret-1' }));
    expect(derived).not.toBe(mediaLinkKey({ mediaLinkKey: undefined, appSecret: 'app-secret-2' }));
  });
});
