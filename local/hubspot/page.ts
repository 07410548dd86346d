/** The local HubSpot's home page: contacts and their logged WhatsApp messages. */
import type { LocalHubSpotStore } from './store.ts';

export function renderHomePage(snapshot: ReturnType<LocalHubSpotStore['snapshot']>): string {
  const messagesById = new Map(snapshot.communications.map((c) => [c.id, c]));
  const contacts = snapshot.contacts
    .map((contact) => {
      const p = contact.properties;
      const name = [p.firstname, p.lastname].filter(Boolean).join(' ') || p.whatsapp_profile_name || '(no name)';
      const messages = contact.communicationIds
        .map((id) => messagesById.get(id))
        .filter((m) => m !== undefined)
        .sort((a, b) => String(a.properties.hs_timestamp).localeCompare(String(b.properties.hs_timestamp)))
        .map(
          (m) =>
            `<li><code>${escape(m.properties.hs_timestamp)}</code> <b>${escape(m.properties.whatsapp_direction)}</b> ` +
            `${escape(m.properties.hs_communication_body)} <small>#${escape(m.id)}</small></li>`,
        )
        .join('');
      const facts = Object.entries(p)
        .filter(([key]) => key !== 'firstname' && key !== 'lastname')
        .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`)
        .join('');
      return `<section><h2>${escape(name)} <small>#${escape(contact.id)}</small></h2><dl>${facts}</dl><ul>${messages || '<li>No messages</li>'}</ul></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local HubSpot</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}section{border-top:1px solid #ccc;padding:.5rem 0}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}dd{margin:0}small{color:#888}</style>
</head><body><h1>Local HubSpot</h1>
<p>${snapshot.contacts.length} contacts, ${snapshot.communications.length} communications. JSON: <a href="/_local/state">/_local/state</a>, <a href="/_local/stats">/_local/stats</a></p>
${contacts || '<p>No contacts yet.</p>'}
</body></html>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
