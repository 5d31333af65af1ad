/**
 * `npm run bench -- deliver [--records N] [--seconds S] [--rpm R] [--latency-ms L]`
 * Against the stand-in on loopback:
 *  1. records/s with no rate limit, 100-record requests;
 *  2. with the limit at R requests/minute (default 600) for S seconds (default 30): delivered
 *     records per minute as a fraction of the ceiling (R × 100), and the 429s received.
 * Target for 2: ≥ 0.98 of the ceiling with zero 429s.
 */
import { parseArgs } from 'node:util';
import { spawnStandIn } from './lib/stand-in-process.js';
import { createDeliveryClient, type DeliveryItem } from '../src/deliver/index.js';
import { silentLogger } from '../src/log/logger.js';
import type { AcaRecord } from '../src/carecycle/schema.js';

const API_KEY = 'cc_bench_local_key';

function makeItems(n: number, prefix: string): DeliveryItem[] {
  return Array.from({ length: n }, (_, i) => {
    const ext = `${prefix}${i}`;
    const record: AcaRecord = {
      firstName: 'Maria',
      lastName: `Garcia${i}`,
      phoneNumber: '(312) 555-0100',
      email: `m${i}@example.com`,
      postalCode: '60601',
      state: 'IL',
      city: 'Chicago',
      dateOfBirth: '04/12/1958',
      gender: 'Female',
      externalId: ext,
      policies: [
        {
          healthSherpaPolicyId: `${ext}-a`,
          planName: 'Blue Silver 2000',
          carrierName: 'BCBSIL',
          effectiveDate: '01/01/2026',
          status: 'Active',
          metalLevel: 'Silver',
          monthlyPremium: '412.50',
          planState: 'IL',
        },
        {
          healthSherpaPolicyId: `${ext}-b`,
          planName: 'Dental Basic',
          carrierName: 'Cigna',
          effectiveDate: '01/01/2026',
          status: 'Pending',
          monthlyPremium: '32.00',
          planState: 'IL',
        },
      ],
    };
    return { key: ext, record };
  });
}

async function unlimited(records: number, latencyMs: number): Promise<void> {
  const s = await spawnStandIn(API_KEY, { rpm: 1e9, latencyMs });
  let requests = 0;
  const client = createDeliveryClient({
    baseUrl: s.url,
    apiKey: API_KEY,
    requestsPerMinute: 1e9,
    timeoutMs: 30_000,
    log: silentLogger(),
    observer: () => {
      requests++;
    },
  });
  const items = makeItems(records, 'u');
  const t0 = performance.now();
  const out = await client.deliver(items);
  const secs = (performance.now() - t0) / 1000;
  const delivered = out.filter((o) => o.status === 'delivered').length;
  await client.close();
  await s.stop();
  console.log(
    `  no rate limit: ${delivered} of ${records} records delivered in ${secs.toFixed(2)} s → ${Math.round(delivered / secs)} records/s (${(requests / secs).toFixed(1)} requests/s)`,
  );
}

async function limited(rpm: number, seconds: number, latencyMs: number): Promise<void> {
  const s = await spawnStandIn(API_KEY, { rpm, latencyMs });
  const sends: Array<{ at: number; status: number; records: number }> = [];
  const client = createDeliveryClient({
    baseUrl: s.url,
    apiKey: API_KEY,
    requestsPerMinute: rpm,
    timeoutMs: 30_000,
    log: silentLogger(),
    observer: (o) => sends.push({ at: Date.now() - o.latencyMs, status: o.status, records: o.records }),
  });
  // More work than fits in the window, so the limiter is the only brake.
  const items = makeItems(Math.ceil((rpm * 100 * seconds) / 60) * 2, 'l');
  const stop = new AbortController();
  const t0 = Date.now();
  const timer = setTimeout(() => stop.abort(new Error('bench window over')), seconds * 1000);
  await client.deliver(items, stop.signal).catch((err: unknown) => {
    if (!stop.signal.aborted) throw err;
  });
  clearTimeout(timer);
  await client.close();
  await s.stop();
  const inWindow = sends.filter((r) => r.at - t0 < seconds * 1000);
  const delivered = inWindow.filter((r) => r.status === 200).reduce((n, r) => n + r.records, 0);
  const got429 = sends.filter((r) => r.status === 429).length;
  if (process.env.BENCH_DEBUG)
    console.log(
      'first send after',
      (sends[0]?.at ?? 0) - t0,
      'ms; gaps',
      sends
        .slice(1)
        .map((r, i) => Math.round(r.at - sends[i]!.at))
        .join(' '),
    );
  const perMinute = (delivered * 60) / seconds;
  const ceiling = rpm * 100;
  console.log(
    `  limit ${rpm} requests/min for ${seconds} s: ${inWindow.length} requests, ${delivered} records delivered → ` +
      `${Math.round(perMinute)} records/min = ${(perMinute / ceiling).toFixed(3)} of the ceiling (${ceiling}); 429s received: ${got429}`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      records: { type: 'string', default: '20000' },
      seconds: { type: 'string', default: '30' },
      rpm: { type: 'string', default: '600' },
      'latency-ms': { type: 'string', default: '0' },
    },
  });
  const latencyMs = Number(values['latency-ms']);
  console.log(
    `deliver bench: stand-in in its own process on loopback, 100-record requests, 2 policies per record, stand-in latency ${latencyMs} ms`,
  );
  await unlimited(Number(values.records), latencyMs);
  await limited(Number(values.rpm), Number(values.seconds), latencyMs);
}
