/**
 * Media survives a kill (MD-1): the local stack as `npm start` runs it, in a child process, is
 * sent photos and documents and killed with SIGKILL while its media function works on them.
 * After a restart on the same data directory every media message that was answered 200 ends
 * kept in S3 exactly as if nothing happened: the work recorded with the row is queued again at
 * start, and the Graph API stand-in still has the media (as Meta keeps it 7 days).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEED_MEDIA } from '#local/graph/media';
import { LOCAL_DEFAULTS } from '#local/stack';
import { deliver, inboundMessage, newWamid } from '#local/webhooks';
import { freePort } from '#local/ports';
import { until } from '../helpers/until.ts';

const APP_SECRET = 'media-crash-app-secret';
const dataDir = mkdtempSync(join(tmpdir(), 'scrm-media-crash-'));
let child: ChildProcess | undefined;

async function startStack(port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: { ...process.env, PORT: String(port), SCRM_DATA_DIR: dataDir, WHATSAPP_APP_SECRET: APP_SECRET, SCRM_LOCAL_AUTOMATIONS: 'off', POWERTOOLS_LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'SILENT' },
    stdio: ['ignore', process.env['E2E_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'],
  });
  await until(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok, 30_000, { what: 'the local stack to answer /health' });
  return proc;
}

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

type View = { messages: { wamid: string; media?: { state: string; key?: string; bytes?: number; reason?: string } }[] };

describe('media and a kill of the local stack', () => {
  it('SIGKILL while media is being fetched and stored, restart: every acknowledged media message ends kept', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = await startStack(port);
    const { graphUrl } = (await (await fetch(`${base}/local/endpoints`)).json()) as { graphUrl: string };
    const sha = async (id: string) => {
      const meta = (await (await fetch(`${graphUrl}/v25.0/${id}`, { headers: { authorization: `Bearer ${LOCAL_DEFAULTS.WHATSAPP_ACCESS_TOKEN}` } })).json()) as { sha256: string };
      return Buffer.from(meta.sha256, 'hex').toString('base64');
    };
    const photo = { id: SEED_MEDIA.photo, mime_type: 'image/jpeg', sha256: await sha(SEED_MEDIA.photo) };
    const pdf = { id: SEED_MEDIA.pdf, mime_type: 'application/pdf', sha256: await sha(SEED_MEDIA.pdf), filename: 'invoice-1042.pdf' };

    const sent = new Map<string, unknown>();
    const acknowledged = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const wamid = newWamid();
      const customer = { waId: `8529300${String(i).padStart(4, '0')}`, bsuid: `HK.mediacrash${Date.now()}${i}`, name: `Media ${i}` };
      const payload = i % 4 === 3 ? inboundMessage(customer, { type: 'document', document: pdf }, { wamid }) : inboundMessage(customer, { type: 'image', image: photo }, { wamid });
      sent.set(wamid, payload);
      if ((await deliver(`${base}/webhook`, payload, APP_SECRET)).status === 200) acknowledged.add(wamid);
    }
    expect(acknowledged.size).toBe(16);
    // Killed as soon as the first media is kept: the others are queued or in the function's hands.
    await until(async () => {
      const contacts = (await (await fetch(`${base}/local/contacts`)).json()) as View[];
      return contacts.flatMap((c) => c.messages).some((m) => m.media?.state === 'stored');
    }, 30_000, { what: 'the first media kept' });
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    child = await startStack(port);
    const messages = await until(
      async () => {
        const contacts = (await (await fetch(`${base}/local/contacts`)).json()) as View[];
        const all = contacts.flatMap((c) => c.messages).filter((m) => sent.has(m.wamid));
        const waiting = all.filter((m) => m.media?.state !== 'stored');
        if (all.length === sent.size && waiting.length === 0) return all;
        throw new Error(`${waiting.length} of ${sent.size} media not kept yet: ${JSON.stringify(waiting.map((m) => m.media?.state ?? 'no row'))}`);
      },
      90_000,
      { what: 'every acknowledged media kept after the restart', intervalMs: 500 },
    );
    expect(messages).toHaveLength(16);
    // What each row points at is there: the bucket survived the restart with the table.
    for (const m of messages) {
      const object = await fetch(`${base}/local/${m.media!.key}`);
      expect(object.status, m.media!.key).toBe(200);
      expect((await object.arrayBuffer()).byteLength).toBe(m.media!.bytes);
    }
  }, 180_000);
});
