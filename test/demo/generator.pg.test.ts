import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm } from '../../src/demo/database.js';
import { changeStatement, type ChangeKind } from '../../src/demo/changes.js';
import { createGenerator } from '../../src/demo/generator.js';

/** What each kind of demo change does to the sample CRM, on a real seeded database. */
async function seeded(name: string): Promise<string> {
  const url = await freshDatabase(name);
  expect(await seedCrm(url, 30)).toEqual({ customers: 30, policies: 60 });
  return url;
}

async function apply(url: string, kind: ChangeKind, r: () => number = Math.random): Promise<void> {
  const st = changeStatement(kind, r);
  await sql(url, st.text, st.values);
}

const snapshot = (url: string) =>
  sql<{ customers: string; live: string; policies: string; phones: string; notes: string; cancelled: string }>(
    url,
    `SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM customers WHERE deleted_at IS NULL) AS live,
            (SELECT count(*) FROM policies) AS policies, (SELECT count(*) FROM customer_phones) AS phones,
            (SELECT count(*) FROM customers WHERE notes IS NOT NULL) AS notes,
            (SELECT count(*) FROM policies WHERE status = 'cancelled') AS cancelled`,
  ).then(
    (rows) =>
      Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)])) as Record<
        'customers' | 'live' | 'policies' | 'phones' | 'notes' | 'cancelled',
        number
      >,
  );

describe('demo changes on the sample CRM', () => {
  it('each kind changes what it says, and only that', async () => {
    const url = await seeded('demo-changes');
    const before = await snapshot(url);
    expect(before).toMatchObject({ customers: 30, live: 30, policies: 60, phones: 0, notes: 0 });

    await apply(url, 'insert-customer');
    expect(await snapshot(url)).toMatchObject({ customers: 31, live: 31, policies: 61 });
    await apply(url, 'update-unmapped');
    expect(await snapshot(url)).toMatchObject({ customers: 31, notes: 1, policies: 61 });
    await apply(url, 'phone-added');
    expect((await snapshot(url)).phones).toBe(1);
    await apply(url, 'policy-delete');
    expect((await snapshot(url)).policies).toBe(60);
    const cancelled = (await snapshot(url)).cancelled;
    await apply(url, 'policy-status');
    expect(Math.abs((await snapshot(url)).cancelled - cancelled)).toBe(1);
    await apply(url, 'customer-soft-delete');
    expect(await snapshot(url)).toMatchObject({ customers: 31, live: 30 });

    const emails = async () =>
      (
        await sql<{ h: string }>(
          url,
          "SELECT md5(string_agg(concat_ws('|', email, phone, last_name, zip), ',' ORDER BY id)) AS h FROM customers",
        )
      )[0]!.h;
    const h = await emails();
    await apply(url, 'update-mapped', () => 0.1); // the email (a random last name may be the same one)
    expect(await emails()).not.toBe(h);

    await apply(url, 'bad-row', () => 0.1); // r < 0.5: the phone
    await apply(url, 'bad-row', () => 0.9); // the sex
    const bad = await sql<{ phone: string; sex: string }>(url, 'SELECT phone, sex FROM customers ORDER BY id DESC LIMIT 2');
    expect(bad).toEqual([expect.objectContaining({ sex: 'X' }), expect.objectContaining({ phone: 'n/a' })]);
  });

  it('the generator keeps its rate, counts per kind, and stops when told', async () => {
    const url = await seeded('demo-generator');
    const gen = createGenerator({ url, rate: 50 });
    const stop = new AbortController();
    const run = gen.run(stop.signal);
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    await run;
    // ~50 in one second; a loaded CI machine may be slower, never faster.
    expect(gen.stats.total).toBeGreaterThanOrEqual(15);
    expect(gen.stats.total).toBeLessThanOrEqual(52);
    expect(gen.stats.failed).toBe(0);
    expect(Object.values(gen.stats.byKind).reduce((a, b) => a + b, 0)).toBe(gen.stats.total);
    const after = gen.stats.total;
    await new Promise((r) => setTimeout(r, 200));
    expect(gen.stats.total).toBe(after);
    // Nothing is left connected once run() resolved.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const left = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'carecycle-sync demo changes'");
    await c.end();
    expect(left.rows[0].n).toBe(0);
  });
});
