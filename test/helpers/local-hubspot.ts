/**
 * A local HubSpot-compatible server for one test file: started with a data file in a temp
 * folder and the properties `hubspot:setup` creates, stopped after the file. Plus an adapter
 * factory with short backoffs and customers with fresh identities.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { HubSpotAdapter, setupHubSpot, type HubSpotAdapterOptions } from '#shared/crm/hubspot/adapter';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';

export const TOKEN = 'local-test-token';

export interface LocalHubSpotFixture {
  /** The running server (valid inside tests). */
  readonly hub: () => LocalHubSpot;
  readonly dataDir: () => string;
  adapter(options?: Partial<HubSpotAdapterOptions>, on?: LocalHubSpot): HubSpotAdapter;
}

export function useLocalHubSpot(name: string, options: { searchLagMs: number }): LocalHubSpotFixture {
  let hub: LocalHubSpot | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${name}-`));
    hub = await startLocalHubSpot({ searchLagMs: options.searchLagMs, token: TOKEN, dataFile: join(dataDir, 'hubspot.json') });
    await setupHubSpot({ baseUrl: hub.url, accessToken: TOKEN });
  });
  afterAll(async () => {
    await hub?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return {
    hub: () => hub!,
    dataDir: () => dataDir!,
    adapter: (adapterOptions = {}, on = hub!) =>
      new HubSpotAdapter({ baseUrl: on.url, accessToken: TOKEN, backoffBaseMs: 5, timeoutMs: 2000, ...adapterOptions }),
  };
}

let sequence = 0;

/** A customer with fresh identities; `tag` keeps BSUIDs of different files apart. */
export function testCustomer(tag: string, phonePrefix: string) {
  sequence += 1;
  const n = `${Date.now() % 1_000_000}${sequence}`.padStart(8, '0');
  return { contactId: `c-${n}`, bsuid: `US.${tag}${n}${sequence}`, phone: `${phonePrefix}${n.slice(-7)}` };
}
