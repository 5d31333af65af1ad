import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { runInit, type InitOutcome } from '../../src/init/run.js';
import { validShare } from '../../src/init/reasons.js';
import { quoteIdent } from '../../src/pg/names.js';
import { freshDatabase, sql } from '../harness/db.js';
import { sampleCrm } from '../assemble/crm-fixture.js';
import { testTempDir } from '../harness/tmp.js';
import { sqlDir } from '../../src/paths.js';
import { CAMEL_CRM, CAMEL_EXPECTED, CLIENT_CRM, CLIENT_EXPECTED, DEMO_EXPECTED } from './crms.js';

/**
 * `init` on three CRMs with different naming styles: the proposal validates, maps at least 90 %
 * of what a person would map (the `*_EXPECTED` sets), and at least 95 % of the sampled customers
 * it previews are valid.
 */
const dir = testTempDir('ccs-init-');
let n = 0;

async function init(url: string, extra: Partial<Parameters<typeof runInit>[0]> = {}): Promise<InitOutcome> {
  return runInit({
    databaseUrl: url,
    out: join(dir, `init-${++n}.yaml`),
    schemas: ['public'],
    force: false,
    sampleRows: 1000,
    previewLimit: 500,
    ...extra,
  });
}

/** Does the proposal carry `column` at config key `key`? (`{sql}` forms and `where` must name it.) */
function proposed(raw: any, key: string): string | undefined {
  if (key.startsWith('watch.')) {
    const w = (raw.watch ?? []).find((x: { table: string }) => x.table === key.slice('watch.'.length));
    return w?.customerKey;
  }
  const v = key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), raw);
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return v.column ?? v.sql;
}

function matches(raw: any, key: string, column: string): boolean {
  const got = proposed(raw, key);
  if (got === undefined) return false;
  // A `where`, an enum CASE or a coalesce of phones must name the column (first, for the coalesce).
  if (key.endsWith('.where') || /^(CASE|coalesce)/.test(got)) return got.includes(quoteIdent(column));
  return got === column;
}

function score(outcome: InitOutcome, expected: Record<string, string>): { share: number; misses: string[] } {
  const raw = parse(readFileSync(outcome.file!, 'utf8'));
  const misses = Object.entries(expected)
    .filter(([k, c]) => !matches(raw, k, c))
    .map(([k, c]) => `${k}: expected ${c}, proposed ${JSON.stringify(proposed(raw, k))}`);
  return { share: 1 - misses.length / Object.keys(expected).length, misses };
}

function expectGood(outcome: InitOutcome, expected: Record<string, string>): void {
  expect(outcome.proof?.problems, outcome.report).toEqual([]);
  expect(outcome.code).toBe(0);
  // The file on disk, loaded as every command loads it, is valid.
  expect(() => loadConfig({ path: outcome.file!, env: { DATABASE_URL: 'postgres://x@127.0.0.1/x' } })).not.toThrow();
  const { share, misses } = score(outcome, expected);
  expect(share, misses.join('\n')).toBeGreaterThanOrEqual(0.9);
  const preview = outcome.proof!.preview!;
  expect(preview.valid + preview.invalid).toBeGreaterThan(100);
  expect(validShare(preview), outcome.report).toBeGreaterThanOrEqual(0.95);
}

describe('carecycle-sync init', { timeout: 120_000 }, () => {
  let demoUrl: string;
  let clientUrl: string;
  let camelUrl: string;
  beforeAll(async () => {
    demoUrl = await sampleCrm('init_demo', 1500, { state: false });
    clientUrl = await freshDatabase('init_client');
    await sql(clientUrl, CLIENT_CRM);
    await sql(clientUrl, 'ANALYZE');
    // Not analysed: init must estimate the size from the table's pages.
    camelUrl = await freshDatabase('init_camel');
    await sql(camelUrl, CAMEL_CRM);
  });

  it('maps the demo CRM as config/demo.yaml does, and explains each choice', async () => {
    const out = await init(demoUrl);
    expectGood(out, DEMO_EXPECTED);
    const text = readFileSync(out.file!, 'utf8');
    expect(text).toMatch(/# phone: name reads "phone"; 100 % of [\d,]+ sampled values look like US phone numbers/);
    expect(text).toContain('gender: { column: sex, map: { "F": "Female", "M": "Male" } }');
    expect(text).toContain('where: "\\"line_of_business\\" = \'ACA\'"');
    expect(text).toContain('url: ${DATABASE_URL}');
    expect(out.report).toMatch(/preview of [\d,]+ sampled customers: [\d,]+ of [\d,]+ valid \(100 %\)/);
  });

  it('maps a client/enrollment CRM with abbreviations, ISO gender codes, mixed phones and ZIP+4', async () => {
    const out = await init(clientUrl);
    expectGood(out, CLIENT_EXPECTED);
    const text = readFileSync(out.file!, 'utf8');
    // The cell phone first; where it is empty, the home phone.
    expect(text).toContain(
      `phoneNumber: { sql: "coalesce(nullif(trim(\\"cell_phone\\"::text), ''), nullif(trim(\\"home_phone\\"::text), ''))" }`,
    );
    expect(text).toMatch(/cell_phone is empty in [\d.]+ % of sampled rows: home_phone fills in/);
    expect(text).toMatch(/formats seen: .*\(XXX\) XXX-XXXX/);
    expect(text).toContain('postalCode: { column: zip_code, transform: zip5 }');
    expect(text).toMatch(/\d+ % are ZIP\+4: transform zip5 sends the first 5 digits/);
    // 9 (ISO 5218 "not applicable") has no CareCycle gender: sent as none, and said so.
    expect(text).toContain(`WHEN '1' THEN 'Male'`);
    expect(text).toMatch(/"9" \(\d+(\.\d)? %\) mean unknown/);
    expect(text).toContain(`"A": "Active"`);
    expect(text).toContain(`"T": "Terminated"`);
    expect(text).toContain('where: "\\"is_deleted\\" IS NOT TRUE"');
    // The customers without a cell phone are the invalid ones, with the key path to edit.
    expect(out.proof!.preview!.reasons[0]).toMatchObject({ path: 'phoneNumber', configPath: 'customers.fields.phoneNumber' });
    expect(out.report).toMatch(/× phoneNumber: .* → edit customers\.fields\.phoneNumber/);
  });

  it('maps a camelCase CRM without foreign keys, with text dates and a Medicare line of business', async () => {
    const out = await init(camelUrl);
    expectGood(out, CAMEL_EXPECTED);
    const text = readFileSync(out.file!, 'utf8');
    expect(text).toContain('table: public.policyRecord');
    expect(text).toContain('dateOfBirth: { column: dob, transform: date }');
    expect(text).toContain('state: { column: state, transform: upper }');
    expect(text).toContain(`where: "\\"lineOfBusiness\\" = 'ACA'"`);
    expect(text).toMatch(/"U" \(\d+ %\) mean unknown/);
    expect(text).toContain('named like a key of public.contact (no foreign key declared)');
  });

  it('needs nothing but SELECT, writes nothing to the CRM, and never shows the password', async () => {
    const role = `init_reader_${process.pid}`;
    await sql(clientUrl, `CREATE ROLE ${role} LOGIN PASSWORD 'Secret-pw-4711'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const before = await sql(clientUrl, `SELECT count(*)::int AS n FROM pg_class`);
    const u = new URL(clientUrl);
    u.username = role;
    u.password = 'Secret-pw-4711';
    const out = await init(u.toString());
    expect(out.code, out.report).toBe(0);
    expect(await sql(clientUrl, `SELECT count(*)::int AS n FROM pg_class`)).toEqual(before);
    expect(await sql(clientUrl, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'carecycle_sync'`)).toEqual([{ n: 0 }]);
    const text = readFileSync(out.file!, 'utf8');
    expect(text + out.report).not.toContain('Secret-pw-4711');
  });

  it('samples a large table by pages: reads a small part of it, never the whole table', async () => {
    const url = await freshDatabase('init_large');
    await sql(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    const seed = readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', '300000');
    await sql(url, seed.replace('FROM customers c, generate_series', 'FROM (SELECT * FROM customers WHERE id <= 2000) c, generate_series'));
    await sql(url, 'ANALYZE');
    const blocks = async () =>
      (
        await sql<{ n: number; pages: number }>(
          url,
          `SELECT pg_stat_clear_snapshot(), coalesce(heap_blks_read, 0) + coalesce(heap_blks_hit, 0) AS n,
         (SELECT relpages FROM pg_class WHERE relname = 'customers') AS pages FROM pg_statio_user_tables WHERE relname = 'customers'`,
        )
      )[0]!;
    const before = await blocks();
    const out = await init(url);
    expect(out.code, out.report).toBe(0);
    expect(out.proposal!.customers.table.sampleMethod).toMatch(/^TABLESAMPLE SYSTEM \([\d.]+ %\) LIMIT 1000$/);
    expect(out.proposal!.customers.table.columns[0]!.sampled).toBeGreaterThan(500);
    // Statistics of a finished session reach the shared counters within a moment.
    let read = 0;
    for (let i = 0; i < 50 && read === 0; i++) {
      read = Number((await blocks()).n) - Number(before.n);
      if (read === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(read).toBeGreaterThan(0);
    // The page sample, plus the preview's 500 customers read by key: a fraction of the table.
    expect(read).toBeLessThan(before.pages * 0.3);
  });

  it('looks in the schemas given, and proposes from names and types alone when the tables are empty', async () => {
    const url = await freshDatabase('init_schema');
    await sql(
      url,
      `CREATE SCHEMA crm;
      CREATE TABLE crm.members (member_id bigint PRIMARY KEY, given_name text, family_name text, mobile_no text, postal_code text, birth_dt date);
      CREATE TABLE crm.coverages (coverage_id bigint PRIMARY KEY, member_id bigint NOT NULL REFERENCES crm.members, carrier_policy_id text, coverage_status text, start_dt date);
      CREATE TABLE public.customers (id int PRIMARY KEY, first_name text, last_name text, phone text)`,
    );
    const out = await init(url, { schemas: ['crm'] });
    expect(out.code, out.report).toBe(0);
    const raw = parse(readFileSync(out.file!, 'utf8'));
    expect(raw.customers).toMatchObject({
      table: 'crm.members',
      key: 'member_id',
      fields: { firstName: 'given_name', lastName: 'family_name', phoneNumber: { column: 'mobile_no', transform: 'phone' } },
    });
    expect(raw.policies).toMatchObject({
      table: 'crm.coverages',
      customerKey: 'member_id',
      fields: { carrierAssignedPolicyId: 'carrier_policy_id', status: 'coverage_status' },
    });
    expect(out.report).toContain('crm.members has no rows yet, so nothing could be previewed');
  });

  it('writes a proposal that does not validate, exits 1 and names the key to edit', async () => {
    const url = await freshDatabase('init_nozip');
    await sql(
      url,
      `CREATE TABLE people (id int PRIMARY KEY, first_name text, last_name text, phone text);
      INSERT INTO people SELECT g, 'Ann', 'Lee', '312555' || (1000 + g) FROM generate_series(1, 50) g`,
    );
    const out = await init(url);
    expect(out.code).toBe(1);
    expect(readFileSync(out.file!, 'utf8')).toContain('table: public.people');
    expect(out.report).toContain('the proposed config does not validate (1 problem)');
    expect(out.report).toContain('customers.fields: postalCode not mapped; CareCycle requires postalCode or timezone (TCPA)');
  });

  it('exits 1 saying what it looked for when no table looks like customers, and writes nothing', async () => {
    const url = await freshDatabase('init_none');
    await sql(
      url,
      `CREATE TABLE widgets (id serial PRIMARY KEY, label text, price numeric); INSERT INTO widgets (label, price) VALUES ('a', 1)`,
    );
    const out = await init(url);
    expect(out.code).toBe(1);
    expect(out.file).toBeUndefined();
    expect(out.report).toContain('no customer table found in schema public');
    expect(out.report).toContain('looked for a table with a single-column primary key and columns for first name, last name and phone');
    expect(out.report).toContain('public.widgets: no a firstName column');
  });
});
