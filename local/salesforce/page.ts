/** The local Salesforce's home page: contacts with their cases (and the messages on them), opportunities, tasks and orders. */
import { CASE, CONTACT, MESSAGE, OPPORTUNITY, ORDER, SERVICE_REPORT, TASK } from '#shared/crm/salesforce/fields';
import type { LocalSalesforceStore, StoredRecord } from './store.ts';

export function renderHomePage(store: LocalSalesforceStore): string {
  const by = (object: string, field: string) => {
    const groups = new Map<string, StoredRecord[]>();
    for (const record of store.list(object)) {
      const key = String(record.fields[field] ?? '');
      groups.set(key, [...(groups.get(key) ?? []), record]);
    }
    return (key: string) => groups.get(key) ?? [];
  };
  const messagesOf = by(MESSAGE.object, MESSAGE.contact);
  const casesOf = by(CASE.object, 'ContactId');
  const opportunitiesOf = by(OPPORTUNITY.object, 'ContactId');
  const tasksOf = by(TASK.object, 'WhoId');
  const ordersOf = by(ORDER.object, 'BillToContactId');
  const f = (record: StoredRecord, field: string) => escape(record.fields[field]);
  const message = (m: StoredRecord) => `<li><code>${f(m, MESSAGE.sentAt)}</code> <b>${f(m, MESSAGE.direction)}</b> ${f(m, MESSAGE.body)} <small>${f(m, MESSAGE.wamid)} #${escape(m.Id)}</small></li>`;
  const byTime = (a: StoredRecord, b: StoredRecord) => String(a.fields[MESSAGE.sentAt]).localeCompare(String(b.fields[MESSAGE.sentAt]));

  const contacts = store
    .list('Contact')
    .map((c) => {
      const name = [c.fields.FirstName, c.fields.LastName].filter(Boolean).join(' ') || '(no name)';
      const messages = messagesOf(c.Id).sort(byTime);
      const cases = casesOf(c.Id)
        .map((k) => {
          const onCase = messages.filter((m) => m.fields[MESSAGE.case] === k.Id);
          return (
            `<li>Case <b>${f(k, 'CaseNumber')}</b> ${f(k, 'Subject')} <code>${f(k, 'Status')}</code> ${f(k, 'Type')} · ${f(k, 'Priority')} ` +
            `<small>${f(k, CASE.conversationId)} #${escape(k.Id)}</small><ul>${onCase.map(message).join('') || '<li>No messages</li>'}</ul></li>`
          );
        })
        .join('');
      const loose = messages.filter((m) => !m.fields[MESSAGE.case]).map(message).join('');
      const opportunities = opportunitiesOf(c.Id)
        .map((o) => `<li><b>${f(o, 'Name')}</b> ${f(o, 'Amount')} ${f(o, OPPORTUNITY.currency)} <code>${f(o, 'StageName')}</code> closes ${f(o, 'CloseDate')} SKU <code>${f(o, OPPORTUNITY.sku)}</code> <small>#${escape(o.Id)}</small></li>`)
        .join('');
      const tasks = tasksOf(c.Id)
        .map((t) => `<li>due <code>${f(t, 'ActivityDate')}</code> <b>${f(t, 'Subject')}</b> <code>${f(t, 'Status')}</code> ${f(t, 'Description')} <small>${f(t, TASK.taskId)} #${escape(t.Id)}</small></li>`)
        .join('');
      const orders = ordersOf(c.Id)
        .map((o) => `<li><code>${f(o, ORDER.placedAt)}</code> <b>${f(o, 'Name') || f(o, 'OrderNumber')}</b> ${f(o, ORDER.fulfillmentStatus)} tracking <code>${f(o, ORDER.trackingNumber) || '—'}</code> ${f(o, ORDER.carrier)} <small>#${escape(o.Id)}</small></li>`)
        .join('');
      const facts = Object.entries(c.fields)
        .filter(([key]) => key !== 'FirstName' && key !== 'LastName')
        .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`)
        .join('');
      return (
        `<section><h2>${escape(name)} <small>#${escape(c.Id)} ${escape(c.fields[CONTACT.bsuid])}</small></h2><dl>${facts}</dl>` +
        `<h3>Cases</h3><ul>${cases || '<li>No cases</li>'}</ul>` +
        (loose ? `<h3>Messages without a case</h3><ul>${loose}</ul>` : '') +
        `<h3>Opportunities</h3><ul>${opportunities || '<li>No opportunities</li>'}</ul>` +
        `<h3>Tasks</h3><ul>${tasks || '<li>No tasks</li>'}</ul>` +
        `<h3>Orders</h3><ul>${orders || '<li>No orders</li>'}</ul></section>`
      );
    })
    .join('\n');
  const reports = store
    .list(SERVICE_REPORT.object)
    .map((r) => `<li><b>${f(r, 'Name')}</b> median first response ${f(r, SERVICE_REPORT.medianFirstResponseSeconds)} s, ${f(r, SERVICE_REPORT.conversations)} conversations, ${f(r, SERVICE_REPORT.unanswered)} unanswered</li>`)
    .join('');
  const count = (object: string) => store.list(object).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local Salesforce</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:64rem}section{border-top:1px solid #ccc;padding:.5rem 0}
h3{font-size:1rem;margin:.5rem 0 0}dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}dd{margin:0}small{color:#888}</style>
</head><body><h1>Local Salesforce</h1>
<p>${count('Contact')} contacts, ${count(MESSAGE.object)} messages, ${count(CASE.object)} cases, ${count(OPPORTUNITY.object)} opportunities, ${count(TASK.object)} tasks, ${count(ORDER.object)} orders.
JSON: <a href="/_local/state">/_local/state</a>, <a href="/_local/stats">/_local/stats</a>. Seed an order: <code>POST /_local/orders</code> with <code>{ "whatsappPhone": "+852…", "name": "…", "skus": ["…"], "trackingNumber": "…" }</code>.</p>
${reports ? `<h2>Service reports</h2><ul>${reports}</ul>` : ''}
${contacts || '<p>No contacts yet.</p>'}
</body></html>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
