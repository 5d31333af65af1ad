import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';

export const API_KEY = 'cc_live_supersecret_1234';

export function record(externalId: string, extra: Partial<AcaRecord> = {}): AcaRecord {
  return { firstName: 'Ada', lastName: `L${externalId}`, phoneNumber: '5551234567', postalCode: '60601', externalId, ...extra };
}

/** A JSON logger whose every line is kept, to assert on (and to prove the key never shows). */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

/** Mulberry32: a small seeded PRNG so a failing randomized run can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
