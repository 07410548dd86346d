/** The tracked-links settings of the send path (AU-8), from the stores and the secret. */
import { linkKey } from '../links/tracked.ts';
import { mediaLinkKey } from '../media/links.ts';
import type { SecretSource } from '../secrets.ts';
import type { LinkStore } from '../store/links.ts';
import type { StatsStore } from '../store/stats.ts';
import type { LinkTracking } from './submit.ts';

export function linkTracking(store: { readonly links: LinkStore; readonly stats: StatsStore }, secrets: Pick<SecretSource, 'current'>, baseUrl: (() => string | undefined) | undefined): LinkTracking | undefined {
  if (!baseUrl) return undefined;
  return { store: store.links, stats: store.stats, baseUrl, key: async () => linkKey(mediaLinkKey(await secrets.current())) };
}
