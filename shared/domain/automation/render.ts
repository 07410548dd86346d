/**
 * Filling in an automated message: `{variable}` placeholders in texts and in template
 * parameters, from what the automation knows of the customer (AU-3: first name, last purchase
 * in words, nearest store …). A variable nobody knows renders as an empty string in a text and
 * as "-" in a template parameter (Meta refuses an empty parameter).
 */
import type { Language, Texts } from './config.ts';
import type { AutomatedContent } from './decide.ts';
import { nextOpening, weekdayTime, withinHours, type SupportHours } from './time.ts';

export type Variables = Readonly<Record<string, string | undefined>>;

const PLACEHOLDER = /\{([a-z_]+)\}/gu;

export function fill(text: string, vars: Variables, missing = ''): string {
  return text.replace(PLACEHOLDER, (_, name: string) => vars[name] || missing).replace(/\s+([,.!?，。！？])/gu, '$1').replace(/^[,，]\s*/u, '').trim();
}

/** The content as the send path takes it. */
export function renderContent(content: AutomatedContent, vars: Variables):
  | { text: string }
  | { template: { name: string; parameters: Record<string, string> } }
  | { list: { body: string; button: string; sections: { rows: { id: string; title: string }[] }[] } } {
  switch (content.type) {
    case 'text':
      return { text: fill(content.text, vars) };
    case 'template':
      return { template: { name: content.name, parameters: Object.fromEntries(Object.entries(content.parameters).map(([k, v]) => [k, fill(v, vars, '-').slice(0, 1024) || '-'])) } };
    case 'list':
      return { list: { body: content.body, button: content.button, sections: [{ rows: content.rows.map((r) => ({ ...r })) }] } };
  }
}

/** "They will answer within 15 minutes." inside support hours, else when the team is back. */
export function whenAnswered(
  at: number,
  hours: SupportHours & { readonly answerWithinMinutes: number },
  timeZone: string,
  texts: { whenOpen: Texts; whenClosed: Texts },
  language: Language,
): string {
  if (withinHours(at, hours, timeZone)) return fill(texts.whenOpen[language], { minutes: String(hours.answerWithinMinutes) });
  return fill(texts.whenClosed[language], { opens: weekdayTime(nextOpening(at, hours, timeZone), language, timeZone) });
}

/** A distance in words: "350 m", "2.4 km". */
export function distanceInWords(meters: number): string {
  return meters < 1000 ? `${Math.round(meters / 10) * 10} m` : `${(meters / 1000).toFixed(1)} km`;
}
