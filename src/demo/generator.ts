/**
 * The demo's live traffic: `rate` changes per second to the sample CRM, each in its own
 * transaction on one connection, until the signal aborts. Counts what it did per kind.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHANGE_KINDS, changeStatement, pickKind, type ChangeKind } from './changes.js';

export interface GeneratorStats {
  total: number;
  byKind: Record<ChangeKind, number>;
  /** Changes that failed (the last error is kept for the view). */
  failed: number;
  lastError: string | null;
}

export interface ChangeGenerator {
  readonly stats: GeneratorStats;
  /** Makes changes until `signal` aborts; resolves once the change in flight has committed. */
  run(signal: AbortSignal): Promise<void>;
}

export interface GeneratorOptions {
  url: string;
  /** Changes per second; 0 makes none. */
  rate: number;
  random?: () => number;
}

export function createGenerator(o: GeneratorOptions): ChangeGenerator {
  const random = o.random ?? Math.random;
  const stats: GeneratorStats = {
    total: 0,
    byKind: Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>,
    failed: 0,
    lastError: null,
  };

  async function run(signal: AbortSignal): Promise<void> {
    if (o.rate <= 0 || signal.aborted) return;
    const client = new pg.Client({ connectionString: o.url, application_name: 'carecycle-sync demo changes' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const intervalMs = 1000 / o.rate;
      const start = Date.now();
      for (let n = 0; !signal.aborted; n++) {
        // Paced from the start time, so a slow change does not lower the rate over time.
        const wait = start + n * intervalMs - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) break;
        await once(client, pickKind(random()));
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function once(client: pg.Client, kind: ChangeKind): Promise<void> {
    const st = changeStatement(kind, random);
    try {
      await client.query(st.text, st.values);
      stats.total++;
      stats.byKind[kind]++;
    } catch (err) {
      stats.failed++;
      stats.lastError = `${kind}: ${(err as Error).message}`;
    }
  }

  return { stats, run };
}
