/**
 * The reports end to end: the stack as `npm start` runs it, in a child process. A customer writes
 * through signed webhooks, an agent answers through the SCRM API (the Graph stand-in reports it
 * sent, delivered and read), the shop posts an order; the weekly report at /local/reports/ counts
 * each once, in every format, and `npm run report` writes it to the data directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, newWamid, textMessage, type Customer } from '#local/webhooks';
import { mediaLinkKey } from '#shared/media/links';
import { reportLink } from '#shared/reports/links';
import type { Report } from '#shared/reports/schema';
import { localTime } from '#shared/reports/time';
import { startStackProcess, type StackProcess } from '../helpers/stack-process.ts';
import { until } from '../helpers/until.ts';

const APP_SECRET = 'e2e-reports-secret';
const TOKEN = 'e2e-reports-api-token';
let stack: StackProcess;
let base = '';
let port = 0;

beforeAll(async () => {
  stack = await startStackProcess({ WHATSAPP_APP_SECRET: APP_SECRET, SCRM_API_TOKEN: TOKEN, SCRM_TIME_ZONE: 'Asia/Hong_Kong' }, 'scrm-reports-');
  base = stack.base;
  port = stack.port;
}, 90_000);

afterAll(() => stack?.stop());

const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${base}/api${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });
  return { status: response.status, body: (await response.json()) as T };
};
const today = () => localTime(Date.now(), 'Asia/Hong_Kong').day;
const weekly = async () => (await (await fetch(`${base}/local/reports/weekly.json?at=${today()}`)).json()) as Report;

describe('reports on the local stack', () => {
  const c: Customer = { waId: `8529${String(Date.now()).slice(-7)}`, bsuid: `HK.rep${Date.now()}`, name: 'Chris Wong' };

  it('counts a conversation once in the weekly report, whatever is delivered twice', async () => {
    const wamid = newWamid();
    const question = textMessage(c, 'Is there a discount on the AirPods Pro? How much?', { wamid });
    expect((await deliver(`${base}/webhook`, question, APP_SECRET)).status).toBe(200);
    expect((await deliver(`${base}/webhook`, question, APP_SECRET)).status).toBe(200); // Meta delivers it again
    const { contactId } = await until(async () => (await api<{ contacts: { contactId: string }[] }>(`/contacts?phone=%2B${c.waId}`)).body.contacts[0], 5_000, { what: 'the contact' });

    const sent = await api<{ id: string }>('/messages', { method: 'POST', headers: { 'idempotency-key': `rep-${wamid}` }, body: JSON.stringify({ to: { contactId }, category: 'service', text: 'Yes: 10 % off this week.', origin: 'agent', agentId: 'ag-mei' }) });
    expect(sent.status).toBe(202);
    const order = await api('/orders', { method: 'POST', body: JSON.stringify({ customer: { contactId }, orderId: `R-${Date.now()}`, placedAt: Date.now() - 1000, amount: 1899, currency: 'HKD' }) });
    expect(order.status).toBe(200);

    // The stand-in reports sent, delivered and read a little later.
    const report = await until(async () => {
      const r = await weekly();
      return r.readRate.read >= 1 ? r : undefined;
    }, 15_000, { what: 'the read status in the report' });
    expect(report.kind).toBe('weekly');
    expect(report.period.timeZone).toBe('Asia/Hong_Kong');
    expect(report.messages.inbound).toBe(1);
    expect(report.messages.outbound).toBe(1);
    expect(report.responseTime.agents).toEqual([expect.objectContaining({ agentId: 'ag-mei', count: 1 })]);
    expect(report.hotWords.find((h) => h.word === 'discount')).toMatchObject({ count: 1, share: 1 });
    expect(report.funnel.find((f) => f.stage === 'first_contact')!.count).toBe(1);
    expect(report.funnel.find((f) => f.stage === 'deal')!.count).toBe(1);
    expect(report.transactions).toMatchObject({ orders: 1, revenue: 1899, currency: 'HKD' });
    expect(report.readRate).toMatchObject({ delivered: 1, read: 1, rate: 1 });
    expect(report.cost.metaUsd).toBeGreaterThanOrEqual(0);
    expect(report.cost.awsUsd).toBeGreaterThan(0);
  });

  it('a link in our message is tracked: the customer is redirected, the click counted once in the CTR', async () => {
    const { contactId } = (await api<{ contacts: { contactId: string }[] }>(`/contacts?phone=%2B${c.waId}`)).body.contacts[0]!;
    const sent = await api<{ id: string }>('/messages', { method: 'POST', headers: { 'idempotency-key': `rep-link-${c.waId}` }, body: JSON.stringify({ to: { contactId }, category: 'service', text: 'Here it is: https://shop.example.com/products/APL-APP2.', origin: 'agent', agentId: 'ag-mei' }) });
    expect(sent.status).toBe(202);
    const texts = await until(async () => {
      const { body } = await api<{ messages: { id: string; text?: string }[] }>(`/contacts/${contactId}/messages`);
      return body.messages.find((m) => m.text?.includes('/l/'))?.text;
    }, 10_000, { what: 'the message with its tracked link' });
    const link = /(http:\/\/\S+\/l\/[A-Za-z0-9_-]{22})\./.exec(texts)![1]!;
    expect(link.startsWith(base)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const opened = await fetch(link, { redirect: 'manual' });
      expect(opened.status).toBe(302);
      expect(opened.headers.get('location')).toBe('https://shop.example.com/products/APL-APP2');
    }
    expect((await fetch(`${base}/l/AAAAAAAAAAAAAAAAAAAAAA`, { redirect: 'manual' })).status).toBe(404);
    const report = await weekly();
    expect(report.clicks).toEqual({ tracked: true, clicks: 1, ctr: 1 });
  });

  it('serves HTML with its charts, CSV and an index; a bad request is named', async () => {
    const html = await fetch(`${base}/local/reports/weekly.html?at=${today()}`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const page = await html.text();
    expect(page).toContain('name="viewport"');
    expect((page.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const csv = await (await fetch(`${base}/local/reports/daily.csv?at=${today()}`)).text();
    expect(csv).toMatch(/^# /);
    expect(await (await fetch(`${base}/local/reports/`)).text()).toContain('/local/reports/weekly.html');

    const bad = await fetch(`${base}/local/reports/weekly.json?at=2026-02-30`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/at: "2026-02-30" is not a date/);
    expect((await fetch(`${base}/local/reports/monthly.json`)).status).toBe(400);
    expect((await fetch(`${base}/local/reports/weekly.pdf`)).status).toBe(400);
  });

  it('a signed report link opens the stored report; a forged one is refused', async () => {
    const report = await weekly();
    await fetch(`${base}/local/reports/weekly.html?at=${today()}`); // stored where the function stores it
    const key = mediaLinkKey({ appSecret: APP_SECRET });
    const link = reportLink(base, key, `weekly-${report.period.from}.html`, Date.now());
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status).toBe(302);
    const stored = await fetch(opened.headers.get('location')!);
    expect(await stored.text()).toContain('name="viewport"');
    const forged = await fetch(link.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), { redirect: 'manual' });
    expect(forged.status).toBe(403);
    expect((await fetch(`${base}/reports/monthly-2026-11-23.html?exp=1&sig=x`, { redirect: 'manual' })).status).toBe(404);
  });

  it('npm run report writes the report to the data directory and says where', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/report.ts', 'weekly', '--format', 'json', '--at', today()], { env: { ...process.env, PORT: String(port), SCRM_DATA_DIR: stack.dataDir } });
    const file = /written to (\S+)/.exec(stdout)?.[1];
    expect(file && existsSync(file)).toBe(true);
    expect((JSON.parse(readFileSync(file!, 'utf8')) as Report).messages.inbound).toBe(1);
    const wrong = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/report.ts', 'monthly'], { env: { ...process.env, PORT: String(port) } }).catch((error: { stderr: string; code: number }) => error);
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringMatching(/usage: npm run report/) });
  });
});
