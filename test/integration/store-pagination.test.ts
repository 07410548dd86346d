/**
 * Reads that span more than one DynamoDB page (1 MB) return everything: the store pages through
 * with the SDK's paginators instead of reading the first page only (hardening, defect 11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '#shared/runtime';
import { startLocalServices, type LocalServices } from '#local/services';

let services: LocalServices;
let runtime: Runtime;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'store-test-secret', WHATSAPP_VERIFY_TOKEN: 'store-test-token' }, services.overrides);
});
afterAll(async () => {
  await services.stop();
});

describe('reads over more than one page', () => {
  it('the raw events of a day that fill more than 1 MB are all listed, not only the first page', async () => {
    const day = Date.UTC(2026, 10, 30, 10);
    const payload = 'x'.repeat(60_000);
    for (let i = 0; i < 30; i++) {
      await runtime.store.rawEvents.put(`hash-${i}`, { reason: 'test', field: 'messages', raw: `${i}:${payload}` }, day + i);
    }
    const listed = await runtime.store.rawEvents.on('2026-11-30');
    expect(listed).toHaveLength(30);
  });
});
