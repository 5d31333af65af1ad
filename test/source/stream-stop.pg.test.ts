/**
 * Stopping a replication stream at any moment of its start ends run(): also while the library
 * is still connecting, before it has a client that a stop could end. (Before, such a stop was
 * lost and the stream went on forever: a demo stopped right after it started never exited.)
 * And a capture stopped while it takes the slot lock or reads its start position returns too.
 */
import { describe, expect, it } from 'vitest';
import { openReplicationStream } from '../../src/source/replication.js';
import { createCapture } from '../../src/source/capture.js';
import { openStateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { setupFor } from './helpers.js';

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then(
      () => 'ended' as const,
      () => 'ended' as const,
    ),
    new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms)),
  ]);

describe('stopping replication during its start', () => {
  it('a stream stopped 0–40 ms after run() ends every time', async () => {
    const url = await crmDatabase('stream-stop');
    const config = await setupFor(demoConfig(url));
    const outcomes: string[] = [];
    for (const delay of [0, 1, 2, 4, 6, 8, 12, 16, 24, 40]) {
      const stream = openReplicationStream(
        { connection: { connectionString: url }, slot: config.source.slot, publication: config.source.publication },
        { onMessage: async () => undefined, onKeepalive: () => undefined },
      );
      const running = stream.run(0n);
      running.catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      await stream.stop();
      outcomes.push(`${delay} ms: ${await within(running, 5000)}`);
      // A stream that did go on holds the slot: end it for the next round.
      await stream.stop();
    }
    expect(outcomes.filter((o) => o.endsWith('still running'))).toEqual([]);
  }, 120_000);

  it('a capture stopped 0–60 ms after run() returns every time', async () => {
    const url = await crmDatabase('capture-stop');
    const config = await setupFor(demoConfig(url));
    const state = openStateDb(config, { max: 4 });
    const outcomes: string[] = [];
    try {
      for (const delay of [0, 2, 5, 10, 15, 20, 30, 45, 60]) {
        const stop = new AbortController();
        const running = createCapture({ config, state, log: silentLogger(), lockPollMs: 50 }).run(stop.signal);
        await new Promise((r) => setTimeout(r, delay));
        stop.abort();
        outcomes.push(`${delay} ms: ${await within(running, 8000)}`);
      }
    } finally {
      await state.close();
    }
    expect(outcomes.filter((o) => o.endsWith('still running'))).toEqual([]);
  }, 120_000);
});
