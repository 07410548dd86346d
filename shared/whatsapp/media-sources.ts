/**
 * The media source of each business number (MD-1), from the configuration, as the channels are
 * chosen for sends (outbound/factory.ts): Meta's Cloud API by default, AWS End User Messaging
 * Social for an account whose `channel` is `social_messaging` (its media staged under
 * media/staging/ in the bucket by GetWhatsAppMessageMedia, then read back).
 */
import type { RuntimeConfig } from '../config.ts';
import type { SecretSource } from '../secrets.ts';
import type { WhatsAppMediaSource } from './media.ts';
import { CloudApiMediaSource } from './media-cloud-api.ts';
import { SocialMessagingMediaSource } from './media-social.ts';
import { graphToken } from './outbound/factory.ts';

export function createMediaSources(config: Pick<RuntimeConfig, 'graphApi' | 'accounts' | 'bucketName'>, secrets: SecretSource): (phoneNumberId: string) => WhatsAppMediaSource {
  const cloud = new CloudApiMediaSource({ baseUrl: config.graphApi.base, version: config.graphApi.version, ...graphToken(secrets) });
  const viaAws = Object.entries(config.accounts).filter(([, a]) => a.channel === 'social_messaging');
  const social =
    viaAws.length && config.bucketName
      ? new SocialMessagingMediaSource({ originationIds: Object.fromEntries(viaAws.map(([id, a]) => [id, a.originationId ?? id])), bucketName: config.bucketName })
      : undefined;
  return (phoneNumberId) => (social && config.accounts[phoneNumberId]?.channel === 'social_messaging' ? social : cloud);
}
