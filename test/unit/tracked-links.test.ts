/** Tracked links (AU-8): which URLs become short links, and what a token is made of. */
import { describe, expect, it } from 'vitest';
import { linkToken, skuOf, trackContent } from '#shared/links/tracked';

const options = { key: 'k'.repeat(43), baseUrl: 'https://api.example.com/', outboundId: 'ob_1234567890123456789012' };

describe('tracked links', () => {
  it('every https URL of a text becomes a short link; the sentence keeps its punctuation', () => {
    const { content, links } = trackContent({ type: 'text', text: 'See https://shop.example.com/p/APL-IP15PM?c=1, or https://shop.example.com/sale. Not http://x.example.com' }, options);
    expect(links.map((l) => l.url)).toEqual(['https://shop.example.com/p/APL-IP15PM?c=1', 'https://shop.example.com/sale']);
    expect(content).toEqual({ type: 'text', text: `See https://api.example.com/l/${links[0]!.token}, or https://api.example.com/l/${links[1]!.token}. Not http://x.example.com` });
    expect(links[0]!.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(links[0]!.token).not.toBe(links[1]!.token);
  });

  it('template parameters, positional and named, are tracked; media links are not', () => {
    expect(trackContent({ type: 'template', name: 't', language: 'en', parameters: ['Ann', 'https://shop.example.com/a'] }, options).links).toHaveLength(1);
    expect(trackContent({ type: 'template', name: 't', language: 'en', parameters: { link: 'https://shop.example.com/a' } }, options).links).toHaveLength(1);
    const image = { type: 'image', link: 'https://cdn.example.com/a.jpg' } as const;
    expect(trackContent(image as never, options)).toEqual({ content: image, links: [] });
  });

  it('a token is the same for the same message and position, unguessable without the key, and names no customer', () => {
    expect(linkToken('key-a', 'ob_1', 0)).toBe(linkToken('key-a', 'ob_1', 0));
    expect(linkToken('key-b', 'ob_1', 0)).not.toBe(linkToken('key-a', 'ob_1', 0));
    expect(linkToken('key-a', 'ob_1', 1)).not.toBe(linkToken('key-a', 'ob_1', 0));
  });

  it('a product URL names its SKU, the longest match first', () => {
    expect(skuOf('https://shop.example.com/products/apl-ip15pm')).toBe('APL-IP15PM');
    expect(skuOf('https://shop.example.com/products/APL-IP15P?x')).toBe('APL-IP15P');
    expect(skuOf('https://shop.example.com/about')).toBeUndefined();
  });
});
