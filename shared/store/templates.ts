/**
 * Message templates as Meta last listed them, one item per WABA, name and language. The send path
 * checks a template here before calling Meta (status APPROVED, the right parameters), so that a
 * bad template never costs a round trip (132000 / 132001).
 */
import type { TemplateInfo } from '../whatsapp/outbound/channel.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export interface StoredTemplate extends TemplateInfo {
  readonly wabaId: string;
  readonly listedAt: number;
}

export class TemplateStore {
  constructor(private readonly table: TableClient) {}

  get(wabaId: string, name: string, language: string): Promise<StoredTemplate | undefined> {
    return this.table.get<StoredTemplate>(keys.template(wabaId, name, language));
  }

  async list(wabaId: string): Promise<StoredTemplate[]> {
    return this.table.queryAll<StoredTemplate>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.templatePartition(wabaId) },
    });
  }

  /** Replaces what is known of a WABA's templates by Meta's list (a template deleted at Meta goes). */
  async replace(wabaId: string, templates: readonly TemplateInfo[], now: number): Promise<void> {
    const listed = new Set(templates.map((t) => `${t.name}#${t.language}`));
    await Promise.all(templates.map((t) => this.table.put({ ...keys.template(wabaId, t.name, t.language), ...t, wabaId, listedAt: now })));
    const gone = (await this.list(wabaId)).filter((t) => !listed.has(`${t.name}#${t.language}`));
    await Promise.all(gone.map((t) => this.table.delete(keys.template(wabaId, t.name, t.language))));
  }
}
