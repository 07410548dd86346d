import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isValidSignature, signBody } from '#shared/whatsapp/signature';

const secret = 'app-secret-123';
const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

describe('X-Hub-Signature-256 (IN-2)', () => {
  it('accepts the HMAC-SHA256 of the raw body with the app secret', () => {
    const header = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect(isValidSignature(body, header, secret)).toBe(true);
    expect(signBody(body, secret)).toBe(header);
  });

  it('accepts an upper-case hex digest', () => {
    expect(isValidSignature(body, signBody(body, secret).toUpperCase().replace('SHA256=', 'sha256='), secret)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', createHmac('sha256', secret).update(body).digest('hex')],
    ['sha1 instead of sha256', `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`],
    ['truncated', signBody(body, secret).slice(0, 40)],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['made with another secret', signBody(body, 'other-secret')],
  ])('rejects a header that is %s', (_, header) => {
    expect(isValidSignature(body, header, secret)).toBe(false);
  });

  it('rejects a body changed by one byte after signing', () => {
    const header = signBody(body, secret);
    const changed = Buffer.from(body);
    changed[5] = changed[5]! ^ 1;
    expect(isValidSignature(changed, header, secret)).toBe(false);
  });

  it('checks the bytes as received, not a re-serialised JSON', () => {
    const spaced = Buffer.from('{ "object": "whatsapp_business_account", "entry": [] }');
    expect(isValidSignature(spaced, signBody(spaced, secret), secret)).toBe(true);
    expect(isValidSignature(spaced, signBody(JSON.stringify(JSON.parse(spaced.toString())), secret), secret)).toBe(false);
  });
});
