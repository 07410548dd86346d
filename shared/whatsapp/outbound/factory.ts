/**
 * The channel of each business number, from the configuration: Meta's Cloud API by default, AWS
 * End User Messaging Social for an account whose `channel` is `social_messaging` (IN-7). The
 * Graph API calls that are not sends (templates, number health) always go to the Cloud API.
 */
import type { RuntimeConfig } from '../../config.ts';
import type { SecretSource } from '../../secrets.ts';
import type { WhatsAppAccountApi, WhatsAppChannel } from './channel.ts';
import { CloudApiChannel } from './cloud-api.ts';
import { SocialMessagingChannel } from './social-messaging.ts';

export interface Channels {
  channelFor(phoneNumberId: string): WhatsAppChannel;
  readonly accountApi: WhatsAppAccountApi;
}

/** The Graph API's token, read from the secret before every request, and read again once when Meta refuses it (rotated). */
export function graphToken(secrets: SecretSource): { accessToken: () => Promise<string>; onAuthFailure: () => Promise<boolean> } {
  return {
    accessToken: async () => {
      const value = (await secrets.current()).whatsappAccessToken;
      if (!value) throw new Error('WHATSAPP_ACCESS_TOKEN is not set in the secret');
      return value;
    },
    onAuthFailure: async () => {
      const before = (await secrets.current()).whatsappAccessToken;
      return (await secrets.refresh()).whatsappAccessToken !== before;
    },
  };
}

export function createChannels(config: Pick<RuntimeConfig, 'graphApi' | 'accounts'>, secrets: SecretSource): Channels {
  const cloud = new CloudApiChannel({ baseUrl: config.graphApi.base, version: config.graphApi.version, ...graphToken(secrets) });
  const viaAws = Object.entries(config.accounts).filter(([, a]) => a.channel === 'social_messaging');
  const social = viaAws.length
    ? new SocialMessagingChannel({
        originationIds: Object.fromEntries(viaAws.map(([id, a]) => [id, a.originationId ?? id])),
        metaApiVersion: config.graphApi.version,
      })
    : undefined;
  return {
    channelFor: (phoneNumberId) => (social && config.accounts[phoneNumberId]?.channel === 'social_messaging' ? social : cloud),
    accountApi: cloud,
  };
}
