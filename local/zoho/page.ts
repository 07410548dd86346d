/** The local Zoho CRM's home page: contacts with their WhatsApp messages, deals, tasks and sales orders. */
import { CONTACT, CONTACTS_MODULE, DEAL, MESSAGE, ORDER, REPORT, TASK } from '#shared/crm/zoho/fields';
import { lookupId } from '#shared/crm/zoho/format';
import type { LocalZohoStore, StoredRecord } from './store.ts';

export function renderHomePage(store: LocalZohoStore): string {
  const on = (module: string, lookup: string) => {
    const byContact = new Map<string, StoredRecord[]>();
    for (const record of store.all(module)) {
      const contact = lookupId(record.fields[lookup]);
      if (contact) byContact.set(contact, [...(byContact.get(contact) ?? []), record]);
    }
    return byContact;
  };
  const messages = on(MESSAGE.module, MESSAGE.contact);
  const deals = on(DEAL.module, DEAL.contact);
  const tasks = on(TASK.module, TASK.who);
  const orders = on(ORDER.module, ORDER.contact);
  const contacts = store.all(CONTACTS_MODULE);
  const list = (records: readonly StoredRecord[] | undefined, item: (f: Readonly<Record<string, unknown>>, r: StoredRecord) => string, none: string) =>
    `<ul>${records?.length ? records.map((r) => `<li>${item(r.fields, r)} <small>#${escape(r.id)}</small></li>`).join('') : `<li>${none}</li>`}</ul>`;

  const sections = contacts
    .map((contact) => {
      const f = contact.fields;
      const name = [f[CONTACT.firstName], f[CONTACT.lastName]].filter(Boolean).join(' ') || '(no name)';
      const facts = Object.entries(f)
        .filter(([key]) => key !== CONTACT.firstName && key !== CONTACT.lastName)
        .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`)
        .join('');
      const byTime = (field: string) => [...(messages.get(contact.id) ?? [])].sort((a, b) => String(a.fields[field]).localeCompare(String(b.fields[field])));
      return (
        `<section><h2>${escape(name)} <small>#${escape(contact.id)}</small></h2><dl>${facts}</dl>` +
        `<h3>Sales orders</h3>${list(orders.get(contact.id), (o) => `<b>${escape(o[ORDER.subject])}</b> ${escape(o[ORDER.grandTotal])} ${escape(o[ORDER.currency])} ${escape(o[ORDER.status])} tracking <code>${escape(o[ORDER.trackingNumber] ?? 'none yet')}</code>`, 'No orders')}` +
        `<h3>Tasks</h3>${list(tasks.get(contact.id), (t) => `due <code>${escape(t[TASK.dueDate])}</code> <b>${escape(t[TASK.subject])}</b> <code>${escape(t[TASK.status])}</code> <small>${escape(t[TASK.taskId])}</small>`, 'No tasks')}` +
        `<h3>Deals</h3>${list(deals.get(contact.id), (d) => `<b>${escape(d[DEAL.name])}</b> ${escape(d[DEAL.amount] ?? '')} <code>${escape(d[DEAL.stage])}</code> SKU <code>${escape(d[DEAL.sku])}</code>`, 'No deals')}` +
        `<h3>WhatsApp messages</h3>${list(byTime(MESSAGE.sentAt), (m) => `<code>${escape(m[MESSAGE.sentAt])}</code> <b>${escape(m[MESSAGE.direction])}</b> ${escape(m[MESSAGE.body])}`, 'No messages')}</section>`
      );
    })
    .join('\n');
  const reports = store.all(REPORT.module);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local Zoho CRM</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}section{border-top:1px solid #ccc;padding:.5rem 0}
h3{font-size:1rem;margin:.5rem 0 0}dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}dd{margin:0}small{color:#888}</style>
</head><body><h1>Local Zoho CRM</h1>
<p>${contacts.length} contacts, ${store.all(MESSAGE.module).length} WhatsApp messages, ${store.all(DEAL.module).length} deals, ${store.all(TASK.module).length} tasks, ${store.all(ORDER.module).length} sales orders, ${reports.length} service reports. JSON: <a href="/_local/state">/_local/state</a>, <a href="/_local/stats">/_local/stats</a>. Seed an order: <code>POST /_local/orders</code> with <code>{ "contactCrmId": "…", "name": "…", "skus": ["…"], "trackingNumber": "…" }</code>.</p>
${sections || '<p>No contacts yet.</p>'}
${reports.length ? `<h2>Service reports</h2>${list(reports, (r) => `<b>${escape(r[REPORT.name])}</b> median first answer ${escape(r[REPORT.medianFirstResponse] ?? '–')} s, ${escape(r[REPORT.conversations])} conversations, ${escape(r[REPORT.unanswered])} unanswered`, '')}` : ''}
</body></html>`;
}

function escape(value: unknown): string {
  const textValue = value && typeof value === 'object' ? ((value as { name?: unknown }).name ?? JSON.stringify(value)) : value;
  return String(textValue ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
