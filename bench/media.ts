/**
 * The media function's throughput and memory (MD-1), against the local table and S3 and the
 * Graph API stand-in: a mix of 12 MP photos, PNGs, voice notes and PDFs through `createMediaApp`
 * in batches of the media queue's size, then one 100 MB document streamed. Prints jobs per second
 * and the peak RSS of each part: the function's memory size is chosen from them (docs/media.md).
 * Runnable alone: `npx tsx bench/media.ts`.
 */
import { fileURLToPath } from 'node:url';
import type { SQSRecord } from 'aws-lambda';
import { createMediaApp } from '#functions/media/app';
import { SEED_MEDIA } from '#local/graph/media';
import { startGraphStandIn } from '#local/graph/server';
import { startLocalServices } from '#local/services';
import { MEDIA_QUEUE } from '#shared/resources';
import { createRuntime } from '#shared/runtime';
import type { MediaWork } from '#shared/store/media';
import { CloudApiMediaSource } from '#shared/whatsapp/media-cloud-api';

const TOKEN = 'bench-media-token';
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`;

async function peakRss<T>(run: () => Promise<T>): Promise<{ peak: number; value: T; ms: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  try {
    const value = await run();
    return { peak: Math.max(peak, process.memoryUsage().rss), value, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

export async function benchMedia(jobs = 40): Promise<string> {
  const services = await startLocalServices({});
  const graph = await startGraphStandIn({ appSecret: 'bench-media-secret', accessToken: TOKEN });
  try {
    const runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'bench-media-secret', WHATSAPP_VERIFY_TOKEN: 'bench-media-token', WHATSAPP_ACCESS_TOKEN: TOKEN }, services.overrides);
    const source = new CloudApiMediaSource({ baseUrl: graph.url, version: 'v25.0', accessToken: async () => TOKEN });
    const app = createMediaApp({ store: runtime.store, source: () => source, bucket: runtime.bucket!, now: Date.now, logger: { info: () => {}, warn: () => {}, error: () => {} } });
    const kinds = [
      { kind: 'image', mediaId: SEED_MEDIA.photo, mimeType: 'image/jpeg' },
      { kind: 'image', mediaId: SEED_MEDIA.png, mimeType: 'image/png' },
      { kind: 'audio', mediaId: SEED_MEDIA.voice, mimeType: 'audio/ogg; codecs=opus' },
      { kind: 'document', mediaId: SEED_MEDIA.pdf, mimeType: 'application/pdf' },
    ];
    // The seeds are made on first use: made before the clock starts.
    for (const k of kinds) await graph.media(k.mediaId);
    const big = graph.addMedia({ mimeType: 'application/pdf', bytes: { size: 100_000_000 } });
    let n = 0;
    const work = async (k: { kind: string; mediaId: string; mimeType: string }): Promise<MediaWork> => {
      const i = ++n;
      const w: MediaWork = { wamid: `wamid.bench-media-${Date.now()}-${i}`, contactId: `ct_bench_${i % 7}`, phoneNumberId: '106540352242922', mediaId: k.mediaId, kind: k.kind, mimeType: k.mimeType, sentAt: Date.now(), receivedAt: Date.now() };
      await runtime.store.messages.put({ wamid: w.wamid, contactId: w.contactId, direction: 'inbound', phoneNumberId: w.phoneNumberId, wabaId: '102290129340398', type: k.kind, knownType: true, summary: `[${k.kind}]`, media: { kind: k.kind, mediaId: k.mediaId, mimeType: k.mimeType }, sentAt: w.sentAt, receivedAt: w.receivedAt });
      await runtime.store.media.queue(w);
      return w;
    };
    const record = (w: MediaWork): SQSRecord => ({ messageId: w.wamid, body: JSON.stringify({ v: 1, wamid: w.wamid, contactId: w.contactId }), attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;
    const mix = await Promise.all(Array.from({ length: jobs }, (_, i) => work(kinds[i % kinds.length]!)));
    const photos = mix.filter((w) => w.mediaId === SEED_MEDIA.photo).length;
    const base = process.memoryUsage().rss;
    const batches = await peakRss(async () => {
      for (let i = 0; i < mix.length; i += MEDIA_QUEUE.batchSize) {
        const answer = await app.handleQueue({ Records: mix.slice(i, i + MEDIA_QUEUE.batchSize).map(record) });
        if (answer.batchItemFailures.length) throw new Error(`${answer.batchItemFailures.length} media jobs failed`);
      }
    });
    const doc = await work({ kind: 'document', mediaId: big.mediaId, mimeType: 'application/pdf' });
    // The local S3 runs in this process and keeps what it is sent in memory: for the function's
    // own memory the document goes to a sink that reads the stream and drops it, as S3 would take it.
    const sink = {
      putObject: async (_key: string, body: Uint8Array | AsyncIterable<Uint8Array>) => {
        if (!(body instanceof Uint8Array)) for await (const chunk of body) void chunk;
      },
      deleteObject: async () => {},
    };
    const streamApp = createMediaApp({ store: runtime.store, source: () => source, bucket: sink, now: Date.now, logger: { info: () => {}, warn: () => {}, error: () => {} } });
    global.gc?.();
    const streamBase = process.memoryUsage().rss;
    const streamed = await peakRss(() => streamApp.handleRecord(record(doc)));
    const stored = (await runtime.store.messages.get(doc.wamid))?.media;
    if (stored?.bytes !== 100_000_000) throw new Error(`the 100 MB document was not stored whole: ${JSON.stringify(stored)}`);
    await runtime.bucket?.destroy();
    return [
      `${jobs} media jobs (${photos} 12 MP photos, the rest PNG, voice notes and PDFs) in batches of ${MEDIA_QUEUE.batchSize} as the queue delivers them, one process, against the Graph API stand-in and the local S3; then one 100 MB document.`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| media jobs per second (mix) | ${((jobs / batches.ms) * 1000).toFixed(1)} |`,
      `| time per job (mix) | ${(batches.ms / jobs).toFixed(0)} ms |`,
      `| peak RSS, mix (from ${mb(base)}) | ${mb(batches.peak)} |`,
      `| 100 MB document streamed | ${(streamed.ms / 1000).toFixed(1)} s |`,
      `| peak RSS, 100 MB document streamed (from ${mb(streamBase)}; S3 a sink) | ${mb(streamed.peak)} |`,
    ].join('\n');
  } finally {
    await graph.close();
    await services.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchMedia());
}
