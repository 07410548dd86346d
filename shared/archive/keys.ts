/**
 * Keys of the archive (ST-2), kept here until they join shared/store/keys.ts:
 *
 * | what                  | where                                                        |
 * |-----------------------|--------------------------------------------------------------|
 * | a contact's month     | S3 `archive/<contactId>/<YYYY-MM>.jsonl.gz`                  |
 * | a month's marker      | table `ARCHIVE#<YYYY-MM>` / `ARCHIVE` (counts, when, final)  |
 *
 * One object per contact and month: a restore reads exactly the contact it is asked for, and a
 * rewrite of one contact's month (late rows) touches nothing else.
 */
import { BUCKET_LAYOUT } from '../resources.ts';
import { isMonth } from './months.ts';

/** Our contact ids (`ct_` + base64url) and the test ids: nothing that could change the key's shape. */
const CONTACT_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isArchivableContactId(contactId: string): boolean {
  return CONTACT_ID.test(contactId);
}

/** The object of one contact's month. */
export function archiveKey(contactId: string, month: string): string {
  if (!isArchivableContactId(contactId)) throw new Error(`contact id "${contactId}" cannot name an archive object (letters, digits, _ and - only)`);
  if (!isMonth(month)) throw new Error(`a month is written YYYY-MM (e.g. 2026-03), got "${month}"`);
  return `${BUCKET_LAYOUT.archive}${contactId}/${month}.jsonl.gz`;
}

/** The table item recording that a month was archived. */
export function archiveMarkerKey(month: string): { pk: string; sk: string } {
  return { pk: `ARCHIVE#${month}`, sk: 'ARCHIVE' };
}

/** The prefix a contact's history partition carries on gsi1 (keys.historyPartition). */
export const HISTORY_PARTITION_PREFIX = 'CONTACT#';
/** The prefix of a history row's gsi1 sort key (keys.historySort). */
export const HISTORY_SORT_PREFIX = 'MSG#';
/** The table rows that are a contact's history: messages (both directions) and our outbound rows. */
export const HISTORY_ROW_PREFIXES = { message: 'MESSAGE#', outbound: 'OUTBOUND#' } as const;
