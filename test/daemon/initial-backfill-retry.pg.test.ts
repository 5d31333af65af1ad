/**
 * The backfill of a new slot fails (the state database refuses its first two attempts): the
 * running daemon retries it with backoff by itself, shows the failure meanwhile, and the whole
 * book reaches CareCycle without a restart.
 */
import { describe, expect, it } from 'vitest';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { runSetup } from '../../src/commands/setup.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm, demoRaw } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { armInsertFault } from '../source/faults.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_backfill_retry_0123456789';

describe('the initial backfill', { timeout: 120_000 }, () => {
  it('is retried inside the running daemon when it fails', async () => {
    const url = await freshDatabase('initial-backfill-retry');
    await seedCrm(url, 25);
    const standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    const raw = demoRaw(url);
    raw.source.slot = slotFor(url);
    raw.carecycle = { baseUrl: standIn.url, apiKey: KEY, requestsPerMinute: 6000 };
    const config = validateConfig(raw);
    await runSetup(config);
    await armInsertFault(url, 'backfill', { times: 2, code: '08006' });
    const daemon = await startDaemon({ config, configPath: 'backfill-retry-test', log: silentLogger(), port: null, idlePollMs: 50 });
    const stop = new AbortController();
    const done = daemon.run(stop.signal, new AbortController().signal).catch(() => undefined);
    try {
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });
      expect(standIn.store.all().length).toBe(25);
      const [doc] = await sql<{ value: { attempts: number; lastError: string | null } }>(
        url,
        `SELECT value FROM carecycle_sync.runtime WHERE name = 'initial_backfill_retry'`,
      );
      expect(doc!.value).toMatchObject({ attempts: 2, lastError: null });
    } finally {
      stop.abort();
      await done;
      await standIn.close();
    }
  });
});
