/** The local Graph API's home page: the sends it received, newest first, and the faults armed. */
import type { GraphFault, RecordedSend } from './server.ts';

export interface GraphPageState {
  readonly sends: readonly RecordedSend[];
  readonly faults: Readonly<Record<string, GraphFault & { readonly remaining: number }>>;
  readonly webhookUrl: string | undefined;
  readonly templateCount: number;
}

export function renderGraphPage(state: GraphPageState): string {
  const rows = [...state.sends]
    .reverse()
    .map((s) => {
      const statuses = s.statuses
        .map((st) => `${escape(st.status)}${st.delivered ? '' : st.attempts ? ` (${st.attempts}× ${escape(st.httpStatus ?? 'no answer')})` : ' (not posted)'}`)
        .join(' → ');
      const outcome = s.error ? `${s.outcome} #${s.error.code} ${s.error.message}` : s.outcome;
      return (
        `<tr class="${escape(s.outcome)}"><td><code>${escape(s.at)}</code></td><td>${escape(s.phoneNumberId)}</td>` +
        `<td>${escape(s.to ?? '')}${s.to && s.recipient ? '<br>' : ''}${escape(s.recipient ?? '')}</td><td>${escape(s.type)}</td>` +
        `<td>${escape(s.summary)}</td><td><small>${escape(s.wamid ?? '')}</small></td>` +
        `<td>${escape(outcome)} <small>${escape(s.httpStatus)}</small></td><td>${statuses}</td></tr>`
      );
    })
    .join('\n');
  const faults = Object.entries(state.faults)
    .map(([recipient, f]) => `<li><code>${escape(recipient)}</code>: ${escape(f.code)}${f.async ? ' (as a failed status)' : ''}, ${escape(f.remaining)} left</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local Graph API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;font-size:.9rem}
td,th{border-top:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}small{color:#888}
tr.rejected td{background:#fdecea}tr.dropped td{background:#fff8e1}tr.failed td{background:#fdecea}</style>
</head><body><h1>Local Graph API</h1>
<p>${state.sends.length} sends, ${state.templateCount} templates. Status webhooks go to <code>${escape(state.webhookUrl ?? '(nowhere: no webhook URL)')}</code>.
JSON: <a href="/local/sends">/local/sends</a>, <a href="/local/faults">/local/faults</a></p>
<h2>Faults</h2><ul>${faults || '<li>None</li>'}</ul>
<h2>Sends</h2>
<table><tr><th>Time</th><th>Number</th><th>To / recipient</th><th>Type</th><th>Content</th><th>wamid</th><th>Outcome</th><th>Statuses</th></tr>
${rows || '<tr><td colspan="8">No sends yet.</td></tr>'}
</table></body></html>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
