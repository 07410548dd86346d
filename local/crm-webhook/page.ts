/** The local webhook receiver's home page: what it materialised from the events, then the event log. */
import type { ReceiverStore } from './store.ts';

/** Events listed on the page, newest first (the JSON at /_local/state has all). */
const EVENTS_SHOWN = 200;

export function renderHomePage(store: ReceiverStore, status: { readonly hookUrl: string; readonly gone: boolean; readonly rejected: number; readonly rateLimited: number }): string {
  const events = store.allEvents();
  const messages = [...store.messages.values()];
  const opportunities = [...store.opportunities.values()];
  const tasks = [...store.tasks.values()];
  const contacts = [...store.contacts.values()]
    .map((contact) => {
      const name = contact.profileName || contact.username || '(no name)';
      const identity = [
        ['contactId', contact.id],
        ['bsuid', contact.bsuid],
        ['phone', contact.phone],
        ['previous BSUIDs', contact.previousBsuids.join(', ')],
        ['previous phones', contact.previousPhones.join(', ')],
        ['username', contact.username],
        ['last interaction', contact.lastInteractionAt],
        ['lead source', contact.leadSource],
      ].filter(([, v]) => v);
      const facts = [...identity, ...Object.entries(contact.fields).map(([k, v]) => [`fields.${k}`, v === null ? 'null' : String(v)])]
        .map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`)
        .join('');
      const list = <T,>(items: T[], line: (item: T) => string, none: string) => (items.length ? items.map(line).join('') : `<li>${none}</li>`);
      const own = <T extends { contactId: string }>(items: T[]) => items.filter((item) => item.contactId === contact.id);
      return (
        `<section><h2>${escape(name)} <small>${contact.events} event(s)</small></h2><dl>${facts}</dl>` +
        `<h3>Messages</h3><ul>${list(own(messages).sort((a, b) => a.timestamp.localeCompare(b.timestamp)), (m) => `<li><code>${escape(m.timestamp)}</code> <b>${escape(m.direction)}</b> ${escape(m.body)} <small>${escape(m.wamid)}</small></li>`, 'No messages')}</ul>` +
        `<h3>Opportunities</h3><ul>${list(own(opportunities), (o) => `<li>SKU <code>${escape(o.sku)}</code> ${escape(o.productName)} ${escape(o.amount)} ${escape(o.currency)} <small>${escape(o.opportunityId)}</small></li>`, 'No opportunities')}</ul>` +
        `<h3>Tasks</h3><ul>${list(own(tasks), (t) => `<li>due <code>${escape(t.dueAt)}</code> <b>${escape(t.subject)}</b> <small>${escape(t.taskId)}</small></li>`, 'No tasks')}</ul></section>`
      );
    })
    .join('\n');
  const reports = [...store.reports.values()]
    .map((r) => `<li><code>${escape(r.reportId)}</code> ${escape(JSON.stringify(r.data))}</li>`)
    .join('');
  const log = events
    .slice(-EVENTS_SHOWN)
    .reverse()
    .map((e) => `<tr><td><code>${escape(new Date(e.receivedAt).toISOString())}</code></td><td>${escape(e.type)}</td><td><code>${escape(e.id)}</code></td><td><small>${escape(JSON.stringify(e.payload.data).slice(0, 160))}</small></td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local CRM webhook receiver</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}section{border-top:1px solid #ccc;padding:.5rem 0}
h3{font-size:1rem;margin:.5rem 0 0}table{border-collapse:collapse;font-size:.85rem}td{border-top:1px solid #eee;padding:.2rem .5rem;vertical-align:top}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}dd{margin:0}small{color:#888}.gone{color:#b00}</style>
</head><body><h1>Local CRM webhook receiver</h1>
<p>Catch hook: <code>POST ${escape(status.hookUrl)}</code> (Standard Webhooks signatures checked; each <code>webhook-id</code> taken once).${status.gone ? ' <b class="gone">Answering 410 Gone.</b>' : ''}</p>
<p>${events.length} events, ${store.duplicates} duplicates dropped, ${status.rejected} refused signatures, ${status.rateLimited} rate-limited; ${store.contacts.size} contacts, ${store.messages.size} messages, ${store.opportunities.size} opportunities, ${store.tasks.size} tasks, ${store.reports.size} service reports. JSON: <a href="/_local/state">/_local/state</a>.</p>
${contacts || '<p>No contacts yet.</p>'}
<h2>Service reports</h2><ul>${reports || '<li>None yet</li>'}</ul>
<h2>Events <small>(newest first, last ${EVENTS_SHOWN})</small></h2>
<table><tr><th>received</th><th>type</th><th>webhook-id</th><th>data</th></tr>${log || '<tr><td colspan="4">No events yet.</td></tr>'}</table>
</body></html>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
