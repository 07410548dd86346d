/**
 * Tracked links (AU-8) and their clicks:
 *
 * | item  | pk              | sk                 | holds                                                    |
 * |-------|-----------------|--------------------|----------------------------------------------------------|
 * | link  | LINK#<token>    | LINK               | url, contactId, outboundId, sku, campaign, clicks, first and last click |
 * | click | LINK#<token>    | CLICK#<iso>#<n>    | one click: time, contactId, sku, campaign, variant       |
 *
 * A link is written once (a retried submit writes the same token and changes nothing); the click
 * count and the first-click time move in one conditional update per click.
 */
import { randomBytes } from 'node:crypto';
import type { TableClient } from './client.ts';

export interface TrackedLink {
  readonly token: string;
  readonly url: string;
  readonly contactId: string;
  readonly outboundId: string;
  readonly index: number;
  /** The SKU the URL names (catalogue), when it names one. */
  readonly sku?: string | undefined;
  /** The automation rule or campaign that sent it. */
  readonly campaign?: string | undefined;
  readonly variant?: string | undefined;
  readonly createdAt: number;
  readonly clicks?: number;
  readonly firstClickAt?: number;
  readonly lastClickAt?: number;
}

const linkKey = (token: string) => ({ pk: `LINK#${token}`, sk: 'LINK' });

export class LinkStore {
  constructor(private readonly table: TableClient) {}

  /** Writes the links of one message (once each). */
  async create(links: readonly TrackedLink[]): Promise<void> {
    await Promise.all(links.map((link) => this.table.put({ ...linkKey(link.token), ...link }, 'attribute_not_exists(pk)')));
  }

  get(token: string): Promise<TrackedLink | undefined> {
    return this.table.get<TrackedLink>(linkKey(token));
  }

  /** Records a click; `first` is true for the link's first one. */
  async click(link: TrackedLink, at: number): Promise<{ first: boolean }> {
    const { attributes } = await this.table.update(linkKey(link.token), {
      update: 'ADD clicks :one SET firstClickAt = if_not_exists(firstClickAt, :at), lastClickAt = :at',
      condition: 'attribute_exists(pk)',
      values: { ':one': 1, ':at': at },
      returnValues: 'UPDATED_NEW',
    });
    await this.table.put({
      pk: `LINK#${link.token}`,
      sk: `CLICK#${new Date(at).toISOString()}#${randomBytes(4).toString('hex')}`,
      at,
      contactId: link.contactId,
      outboundId: link.outboundId,
      ...(link.sku && { sku: link.sku }),
      ...(link.campaign && { campaign: link.campaign }),
      ...(link.variant && { variant: link.variant }),
      expiresAt: this.table.expiresAt(at),
    });
    return { first: Number(attributes?.['clicks']) === 1 };
  }
}
