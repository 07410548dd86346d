/** The local HubSpot's home page: contacts with their orders, follow-up tasks, deals and logged WhatsApp messages. */
import { crmField } from '#shared/crm/field-mapping';
import { DEFAULT_ORDER_CARRIER_PROPERTY, ORDER, TWO_WAY_PROPERTIES } from '#shared/crm/hubspot/properties';
import { fieldMapping } from '#shared/crm/mappings';
import type { LocalHubSpotStore } from './store.ts';

export function renderHomePage(snapshot: ReturnType<LocalHubSpotStore['snapshot']>): string {
  const messagesById = new Map(snapshot.communications.map((c) => [c.id, c]));
  const dealsById = new Map(snapshot.deals.map((d) => [d.id, d]));
  const ordersById = new Map(snapshot.orders.map((o) => [o.id, o]));
  const tasksById = new Map(snapshot.tasks.map((t) => [t.id, t]));
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
      const deals = contact.dealIds
        .map((id) => dealsById.get(id))
        .filter((d) => d !== undefined)
        .map((d) => {
          const q = d.properties;
          const amount = q.amount ? ` ${escape(q.amount)} ${escape(q.whatsapp_currency)}` : '';
          return (
            `<li><b>${escape(q.dealname)}</b>${amount} <code>${escape(q.dealstage)}</code> ` +
            `SKU <code>${escape(q.whatsapp_sku)}</code> <small>#${escape(d.id)}</small></li>`
          );
        })
        .join('');
      const orders = contact.orderIds
        .map((id) => ordersById.get(id))
        .filter((o) => o !== undefined)
        .sort((a, b) => String(b.properties[ORDER.externalCreatedAt]).localeCompare(String(a.properties[ORDER.externalCreatedAt])))
        .map((o) => {
          const q = o.properties;
          const amount = q[ORDER.totalPrice] ? ` ${escape(q[ORDER.totalPrice])} ${escape(q[ORDER.currency])}` : '';
          const tracking = q[ORDER.trackingNumber]
            ? ` tracking <code>${escape(q[ORDER.trackingNumber])}</code> ${escape(q[DEFAULT_ORDER_CARRIER_PROPERTY])}` +
              (q[ORDER.trackingUrl] ? ` <a href="${escape(q[ORDER.trackingUrl])}">track</a>` : '')
            : ' no tracking yet';
          return (
            `<li><code>${escape(q[ORDER.externalCreatedAt])}</code> <b>${escape(q[ORDER.name] ?? '(order)')}</b>${amount} ` +
            `${escape(q[ORDER.fulfillmentStatus])}${tracking} SKUs <code>${escape(o.skus.join(', '))}</code> <small>#${escape(o.id)}</small></li>`
          );
        })
        .join('');
      const tasks = contact.taskIds
        .map((id) => tasksById.get(id))
        .filter((t) => t !== undefined)
        .sort((a, b) => String(a.properties.hs_timestamp).localeCompare(String(b.properties.hs_timestamp)))
        .map((t) => {
          const q = t.properties;
          return (
            `<li>due <code>${escape(q.hs_timestamp)}</code> <b>${escape(q.hs_task_subject)}</b> <code>${escape(q.hs_task_status)}</code> ` +
            `${escape(q.hs_task_body)} <small>${escape(q.whatsapp_task_id)} #${escape(t.id)}</small></li>`
          );
        })
        .join('');
      const facts = Object.entries(p)
        .filter(([key]) => key !== 'firstname' && key !== 'lastname')
        .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`)
        .join('');
      return (
        `<section><h2>${escape(name)} <small>#${escape(contact.id)}</small></h2><dl>${facts}</dl>` +
        editForms(contact.id, p) +
        `<h3>Orders</h3><ul>${orders || '<li>No orders</li>'}</ul>` +
        `<h3>Tasks</h3><ul>${tasks || '<li>No tasks</li>'}</ul>` +
        `<h3>Deals</h3><ul>${deals || '<li>No deals</li>'}</ul>` +
        `<h3>Messages</h3><ul>${messages || '<li>No messages</li>'}</ul></section>`
      );
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local HubSpot</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}section{border-top:1px solid #ccc;padding:.5rem 0}
h3{font-size:1rem;margin:.5rem 0 0}
dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem;font-size:.9rem}dt{color:#555}dd{margin:0}small{color:#888}</style>
</head><body><h1>Local HubSpot</h1>
<p>${snapshot.contacts.length} contacts, ${snapshot.orders.length} orders, ${snapshot.tasks.length} tasks, ${snapshot.communications.length} communications, ${snapshot.deals.length} deals. JSON: <a href="/_local/state">/_local/state</a>, <a href="/_local/stats">/_local/stats</a>. Seed an order: <code>POST /_local/orders</code> with <code>{ "whatsappPhone": "+852…", "name": "…", "skus": ["…"], "trackingNumber": "…" }</code>.</p>
${contacts || '<p>No contacts yet.</p>'}
</body></html>`;
}

/**
 * A sales user's edit and an agent's reply, as in HubSpot's record page: POSTed to
 * `/_local/contacts/{id}` as that user (CRM_UI), which notifies the app like any edit there.
 */
function editForms(id: string, p: Record<string, string | undefined>): string {
  const level = crmField(fieldMapping('hubspot'), 'customerLevel');
  const optOut = TWO_WAY_PROPERTIES.marketingOptOut;
  const action = `/_local/contacts/${escape(id)}`;
  return (
    `<form method="post" action="${action}"><label>First name <input name="p.firstname" value="${escape(p.firstname)}"></label> ` +
    (level ? `<label>Customer level <input name="p.${escape(level)}" value="${escape(p[level])}"></label> ` : '') +
    `<input type="hidden" name="p.${optOut}" value="false"><label><input type="checkbox" name="p.${optOut}" value="true"${p[optOut] === 'true' ? ' checked' : ''}> No marketing</label> ` +
    `<button>Save</button></form>` +
    `<form method="post" action="${action}"><label>Reply on WhatsApp <textarea name="p.${TWO_WAY_PROPERTIES.reply}" required rows="2" cols="50"></textarea></label> <button>Send</button> ` +
    `<small>${escape(p[TWO_WAY_PROPERTIES.replyStatus] ?? '')}</small></form>`
  );
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
