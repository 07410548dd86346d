/**
 * Field-level last-writer-wins between our side and the CRM (SY-3, ID-5). Pure.
 *
 * Each two-way field keeps, on our contact, its value and when it was last edited (ms), who
 * edited it, and `synced`: the value both sides last agreed on (we wrote it to the CRM, or took
 * it from there). That base is what tells an edit from an echo and a conflict from a plain change:
 *
 * - a CRM change to the value we already hold is nothing (our own write coming back, a repeat);
 * - a value we wrote coming back (flagged ours by the CRM, or within the echo window) is nothing;
 * - a CRM change while our value is what the CRM had (`value === synced`) is a plain edit: newer
 *   than ours, it is taken; older, it is stale — unless it was a sales edit our later push
 *   overwrote, which is a conflict our newer value won;
 * - a CRM change while we hold an edit the CRM has not got yet is a **conflict**: both sides
 *   changed since the last sync. The newer edit wins (resolveField: ms, ties ordered
 *   deterministically), the conflict is recorded with both values and times, and the winner is
 *   written to the side that lost.
 *
 * On our side only a *change* is an edit: the first word of a WhatsApp profile name is compared
 * with the last one we saw (`wa`), so a message repeating the same profile name never undoes a
 * sales edit.
 */
import { resolveField, utcDay } from './intelligence/conflicts.ts';

export type Editor = 'whatsapp' | 'crm' | 'review';

export interface FieldState {
  readonly value: string | null;
  /** When this value was edited, ms (the message's time, the CRM's modification time, the review's). */
  readonly at: number;
  readonly by: Editor;
  /** The value both sides last agreed on; absent: the CRM's value is not known yet. */
  readonly synced?: string | null | undefined;
  /** When our last write of this field reached the CRM, ms. */
  readonly pushedAt?: number | undefined;
  /** Our last few writes (value, time): a CRM change matching one is that write coming back (echo). */
  readonly pushes?: readonly { readonly value: string | null; readonly at: number }[] | undefined;
  /** The last value the WhatsApp side gave (the profile name's first word): only a change of it is an edit. */
  readonly wa?: string | null | undefined;
}

export interface FieldConflict {
  readonly field: string;
  readonly ours: { readonly value: string | null; readonly at: number };
  readonly theirs: { readonly value: string | null; readonly at: number };
  readonly winner: 'ours' | 'theirs';
  /** The later of the two times: when the conflict arose. */
  readonly at: number;
  readonly day: string;
}

export interface FieldOutcome {
  readonly state: FieldState;
  /** Our value must be written to the CRM (ours won, or the CRM lost a newer value to our push). */
  readonly push: boolean;
  readonly conflict?: FieldConflict | undefined;
  /** Our contact's value changed (templates, automations see the new one). */
  readonly changed: boolean;
}

/** How far the CRM's time of our write may be from ours and still be recognised as our echo. */
export const ECHO_WINDOW_MS = 120_000;
const PUSHES_KEPT = 3;

const pending = (s: FieldState) => s.synced === undefined || s.value !== s.synced;

function conflictOf(field: string, ours: FieldState, theirs: { value: string | null; at: number }): { conflict: FieldConflict; crmWins: boolean } {
  const r = resolveField(theirs.value, theirs.at, ours.value, ours.at, field);
  const at = Math.max(theirs.at, ours.at);
  return {
    crmWins: r.winner === 'crm',
    conflict: { field, ours: { value: ours.value, at: ours.at }, theirs, winner: r.winner === 'crm' ? 'theirs' : 'ours', at, day: utcDay(at) },
  };
}

/** A change of the field in the CRM, against our state (undefined: we never held this field). */
export function applyCrmChange(field: string, state: FieldState | undefined, change: { value: string | null; at: number; ours?: boolean | undefined }): FieldOutcome {
  const theirs = { value: change.value, at: change.at };
  const taken: FieldState = { value: change.value, at: change.at, by: 'crm', synced: change.value, wa: state?.wa, pushedAt: state?.pushedAt, pushes: state?.pushes };
  if (!state) return { state: taken, push: false, changed: true };
  // Our own write coming back: a value we wrote, which the CRM says is ours or which comes back
  // within the echo window. A value flagged ours that we never wrote is a person's edit our later
  // write to the record carried along (Zoho's Modified_By names the record's last writer): taken
  // as a change at that time, the latest it can have been made.
  const wrote = (p: { value: string | null; at: number }) => p.value === change.value && (change.ours === true || Math.abs(p.at - change.at) <= ECHO_WINDOW_MS);
  if (state.pushes?.some(wrote) || (change.ours && change.value === state.synced)) return { state, push: false, changed: false };
  // The value we hold: our own write coming back, a repeated delivery, or both sides agreeing.
  if (change.value === state.value) return { state: { ...state, synced: change.value }, push: false, changed: false };
  if (!pending(state)) {
    // A write of ours reached the CRM after this edit was made there: the CRM holds ours now.
    const overwritten = state.pushedAt !== undefined && change.at < state.pushedAt && state.by !== 'crm';
    if (!overwritten) {
      if (change.at > state.at || (change.at === state.at && state.by === 'crm')) return { state: taken, push: false, changed: true };
      // Older than a CRM value we already took: an out-of-order delivery of the CRM's own history.
      if (state.by === 'crm') return { state, push: false, changed: false };
    }
    const { conflict, crmWins } = conflictOf(field, state, theirs);
    // Theirs won but the CRM holds ours (our push came after): theirs goes back to the CRM.
    if (crmWins) return { state: { ...taken, synced: state.synced }, push: true, conflict, changed: true };
    return { state, push: false, conflict, changed: false };
  }
  // The CRM still holds the value both sides agreed on (another field changed, a repeat, a read
  // before our write): our edit is still to be written, nothing to resolve.
  if (change.value === state.synced) return { state, push: false, changed: false };
  // Both sides changed since the last sync.
  const { conflict, crmWins } = conflictOf(field, state, theirs);
  if (crmWins) return { state: taken, push: false, conflict, changed: true };
  return { state: { ...state, synced: change.value }, push: true, conflict, changed: false };
}

/**
 * A value from the WhatsApp side (the profile name's first word, as of message time `at`).
 * Only a change of what WhatsApp gave before is an edit; an edit older than the field's value loses.
 */
export function applyWhatsAppValue(field: string, state: FieldState | undefined, value: string | null, at: number): FieldOutcome {
  if (!state) return { state: { value, at, by: 'whatsapp', wa: value }, push: false, changed: true };
  if (value === state.wa) return { state, push: false, changed: false };
  if (value === state.value) return { state: { ...state, wa: value }, push: false, changed: false };
  if (at < state.at) {
    // Older than the value we hold: a newer CRM edit already won. Both sides changed: a conflict.
    if (state.by !== 'whatsapp') {
      const { conflict } = conflictOf(field, { ...state, value: value, at, by: 'whatsapp' }, { value: state.value, at: state.at });
      return { state: { ...state, wa: value }, push: false, conflict, changed: false };
    }
    return { state: { ...state, wa: value }, push: false, changed: false };
  }
  // Newer than a CRM edit the CRM already holds and we took: ours overwrites it (not a conflict:
  // we saw theirs before editing). Newer than one we have not taken yet: the CRM's event decides.
  return { state: { ...state, value, at, by: 'whatsapp', wa: value }, push: true, changed: true };
}

/** A person's decision on a conflict: the value, now, written to both sides. */
export function applyReview(state: FieldState | undefined, value: string | null, at: number): FieldOutcome {
  return { state: { ...(state ?? {}), value, at, by: 'review', synced: state?.synced, wa: state?.wa }, push: true, changed: state?.value !== value };
}

/** Our value reached the CRM (written at `at`): both sides agree on it. */
export function markPushed(state: FieldState, pushedValue: string | null, at: number): FieldState {
  const pushes = [...(state.pushes ?? []), { value: pushedValue, at }].slice(-PUSHES_KEPT);
  // The CRM holds what we wrote, whatever we hold now (a change that came in meanwhile is then pending).
  return { ...state, synced: pushedValue, pushedAt: at, pushes };
}

/** The value of a field our side needs the CRM to take, if any. */
export function needsPush(state: FieldState | undefined): boolean {
  return state !== undefined && state.synced !== undefined && state.value !== state.synced;
}

/** The WhatsApp side of the name: the profile name's first word (as the CRM record was created). */
export function firstNameOfProfile(profileName: string | undefined): string | null {
  const first = profileName?.trim().split(/\s+/)[0];
  return first ? first : null;
}
