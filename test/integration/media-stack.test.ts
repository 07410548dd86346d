/**
 * Media end to end through the local stack (MD-1): signed webhooks of a 12 MP photo, a transparent
 * PNG, a voice note and a PDF, fetched from the Graph API stand-in, kept in the local S3, shown on
 * /local/contacts, logged into the CRM with a link that opens the stored file; an expired download
 * URL fetched again; a media id Meta no longer has failed with its reason.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_MEDIA } from '#local/graph/media';
import type { LocalStack } from '#local/stack';
import { inboundMessage, newWamid } from '#local/webhooks';
import { newCustomer, send, startSyncStack, waitSynced } from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startSyncStack({ env: { SCRM_LOCAL_AUTOMATIONS: 'off' } });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

type MediaView = { key?: string; bytes?: number; contentType?: string; sha256?: string; state: string; reason?: string; width?: number; height?: number };

async function mediaOf(wamid: string): Promise<MediaView | undefined> {
  const contacts = (await (await fetch(`${stack.url}/local/contacts`)).json()) as { messages: { wamid: string; media?: MediaView }[] }[];
  return contacts.flatMap((c) => c.messages).find((m) => m.wamid === wamid)?.media;
}

async function kept(wamid: string): Promise<MediaView> {
  return until(async () => {
    const media = await mediaOf(wamid);
    return media && media.state !== 'pending' ? media : undefined;
  }, 30_000, { what: `the media of ${wamid} kept` });
}

/** A media message from a customer, with the webhook's sha256 (base64) as Meta sends it. */
async function mediaMessage(kind: 'image' | 'audio' | 'document', mediaId: string, mimeType: string, extra: Record<string, unknown> = {}) {
  const wamid = newWamid();
  const summary = await stack.graph!.media(mediaId);
  await send(stack, inboundMessage(newCustomer(), { type: kind, [kind]: { id: mediaId, mime_type: mimeType, ...(summary && { sha256: summary.sha256Base64 }), ...extra } }, { wamid }));
  return wamid;
}

async function bytesAt(url: string): Promise<{ status: number; bytes: Buffer; type: string | null }> {
  const response = await fetch(url);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), type: response.headers.get('content-type') };
}

describe('media through the local stack', () => {
  it('a photo, a PNG, a voice note and a PDF end in S3, on /local/contacts and in the CRM with a link that opens them', async () => {
    const photo = await mediaMessage('image', SEED_MEDIA.photo, 'image/jpeg', { caption: 'this colour?' });
    const png = await mediaMessage('image', SEED_MEDIA.png, 'image/png');
    const voice = await mediaMessage('audio', SEED_MEDIA.voice, 'audio/ogg; codecs=opus', { voice: true });
    const pdf = await mediaMessage('document', SEED_MEDIA.pdf, 'application/pdf', { filename: 'invoice-1042.pdf' });

    const p = await kept(photo);
    expect(p).toMatchObject({ state: 'stored', contentType: 'image/jpeg', width: 3000, height: 4000 });
    expect(p.bytes).toBeLessThan(5_000_000);
    const stored = await bytesAt(`${stack.url}/local/${p.key}`);
    expect(stored).toMatchObject({ status: 200, type: 'image/jpeg' });
    expect((await bytesAt(`${stack.url}/local/media/${p.key}`)).bytes.equals(stored.bytes)).toBe(true);
    expect((await sharp(stored.bytes).metadata()).exif).toBeUndefined();
    expect(await kept(png)).toMatchObject({ state: 'stored', contentType: 'image/jpeg', width: 800, height: 600 });
    const v = await kept(voice);
    expect(v).toMatchObject({ state: 'stored', contentType: 'audio/ogg; codecs=opus' });
    expect((await bytesAt(`${stack.url}/local/${v.key}`)).bytes.subarray(0, 4).toString()).toBe('OggS');
    const d = await kept(pdf);
    expect(d).toMatchObject({ state: 'stored', contentType: 'application/pdf' });

    // The CRM's copy of the message carries a link; opening it redirects to the stored file.
    await waitSynced(stack, [photo, pdf]);
    const logged = await until(() => stack.crmStandIn!.messages().find((m) => m.wamid === pdf && m.body.includes('/media/')), 15_000, { what: 'the PDF logged in the CRM with its link' });
    const link = /(https?:\/\/\S+\/media\/\S+)/.exec(logged.body)![1]!;
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const opened = await bytesAt(redirect.headers.get('location')!);
    expect(opened.status).toBe(200);
    expect(opened.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // A link whose signature is not ours opens nothing.
    expect((await fetch(link.replace(/sig=[^&]+/, 'sig=forged'), { redirect: 'manual' })).status).toBe(403);
  }, 60_000);

  it('an expired download URL is fetched again; a media id Meta no longer has fails with its reason', async () => {
    const added = stack.graph!.addMedia({ mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n% expired once\n%%EOF\n') });
    stack.graph!.mediaFault(added.mediaId, 'expire-url');
    const expired = await mediaMessage('document', added.mediaId, 'application/pdf');
    expect(await kept(expired)).toMatchObject({ state: 'stored' });

    const gone = await mediaMessage('image', '999000111222333', 'image/jpeg');
    const failed = await kept(gone);
    expect(failed.state).toBe('failed');
    expect(failed.reason).toMatch(/no longer has media 999000111222333/);
  }, 60_000);
});
