/**
 * A customer's consent, as state (CP-7): opted in or opted out, per purpose, with when and how
 * it was given; no state is "unknown". Pure. The last word wins by the customer's own time (the
 * message's timestamp), so a STOP delivered late never undoes a later START; at the same moment an
 * opt-out wins over an opt-in (the safer reading).
 *
 * Commands are whole messages ("STOP", "START", "退訂", "отписаться", config/consent.json). An
 * opt-out is also read from a sentence by the intelligence rules (intent `opt_out`: "please stop
 * sending me promotions"); an opt-in only from the command, so that "when does the sale start?"
 * never opts anyone in.
 */
import * as z from 'zod/mini';
import '../zod.ts';
import rawCommands from '../../config/consent.json' with { type: 'json' };
import type { ChineseFolding } from './intelligence/normalise.ts';
import { normaliseText } from './intelligence/normalise.ts';

export const CONSENT_PURPOSES = ['marketing'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export type ConsentState = 'opted_in' | 'opted_out';

/** Where a consent came from. */
export type ConsentSource =
  /** The customer's own WhatsApp message (a command, or an opt-out sentence). */
  | 'whatsapp_message'
  /** Meta said so: the customer stopped marketing messages in WhatsApp (error 131050, `user_preferences`). */
  | 'whatsapp_preferences'
  /** An opt-out quick-reply button on a marketing template. */
  | 'quick_reply'
  /** The business, through the API or the CRM. */
  | 'business';

export interface Consent {
  readonly state: ConsentState;
  /** When the customer gave it (ms): the message's time, not when we stored it. */
  readonly at: number;
  readonly source: ConsentSource;
  /** The message that gave it, when it was one. */
  readonly wamid?: string | undefined;
  /** Where the business got it (`source` of `PUT /api/contacts/{id}/consent`: "web form", "store"). */
  readonly detail?: string | undefined;
}

export type Consents = Readonly<Partial<Record<ConsentPurpose, Consent>>>;

/** True when `next` replaces `current`: later, or as late and an opt-out. */
export function supersedes(next: Consent, current: Consent | undefined): boolean {
  if (!current) return true;
  if (next.at !== current.at) return next.at > current.at;
  return next.state === 'opted_out' && current.state === 'opted_in';
}

const NO_FOLDING: ChineseFolding = new Map();
/** Longest text read as a command ("STOP", "取消訂閱", "yes start", with some punctuation or emoji). */
const MAX_COMMAND_LENGTH = 40;

/** Letters, digits and Chinese only: "STOP!!", "stop 🙏" and "Stop." are the same command. */
function commandKey(text: string, folding: ChineseFolding): string {
  return normaliseText(text, folding)
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function commandSet(lists: Record<string, readonly string[]>, folding: ChineseFolding): Set<string> {
  return new Set(Object.values(lists).flat().map((c) => commandKey(c, folding)));
}

export interface ConsentCommands {
  readonly optIn: ReadonlySet<string>;
  readonly optOut: ReadonlySet<string>;
  /** Per marketing template (`*`: every one), the quick-reply buttons that opt out whatever their words. */
  readonly optOutButtons: ReadonlyMap<string, ReadonlySet<string>>;
  readonly folding: ChineseFolding;
}

const CommandsSchema = z.object({
  optIn: z.record(z.string(), z.array(z.string().check(z.minLength(1)))),
  optOut: z.record(z.string(), z.array(z.string().check(z.minLength(1)))),
  optOutButtons: z.optional(z.record(z.string(), z.array(z.string().check(z.minLength(1))))),
});

/** The commands of config/consent.json, validated (a wrong entry fails naming it) and folded like messages. */
export function consentCommands(folding: ChineseFolding = NO_FOLDING, raw: unknown = rawCommands): ConsentCommands {
  const parsed = CommandsSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid config/consent.json: ${problem}`);
  }
  const buttons = new Map(Object.entries(parsed.data.optOutButtons ?? {}).map(([template, texts]) => [template, new Set(texts.map((t) => commandKey(t, folding)))]));
  return { optIn: commandSet(parsed.data.optIn, folding), optOut: commandSet(parsed.data.optOut, folding), optOutButtons: buttons, folding };
}

/**
 * A tap on a marketing template's quick-reply button that is configured as its opt-out (CP-7):
 * an opt-out whatever the button's words ("No more offers", "Stop promotions").
 */
export function isOptOutButton(templateName: string, buttonText: string, commands: ConsentCommands): boolean {
  const key = commandKey(buttonText, commands.folding);
  return Boolean(commands.optOutButtons.get(templateName)?.has(key) || commands.optOutButtons.get('*')?.has(key));
}

/**
 * What a customer's message says about their marketing consent: a command, or an opt-out sentence
 * (the message's intent), or nothing.
 */
export function consentFromMessage(text: string | undefined, intent: string | undefined, commands: ConsentCommands): ConsentState | undefined {
  // Commands are a few words: a longer text is not one (and is not normalised again for it).
  const key = text && text.length <= MAX_COMMAND_LENGTH ? commandKey(text, commands.folding) : '';
  if (key && commands.optOut.has(key)) return 'opted_out';
  if (key && commands.optIn.has(key)) return 'opted_in';
  if (intent === 'opt_out') return 'opted_out';
  return undefined;
}
