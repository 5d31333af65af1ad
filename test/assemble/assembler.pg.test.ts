import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pg from 'pg';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import type { Config } from '../../src/config/schema.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { createAssembler, prepareAssembler, type Assembler } from '../../src/assemble/assembler.js';
import type { MappingCatalog } from '../../src/assemble/catalog.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { checkMapping } from '../../src/assemble/check.js';
import { mappedTables } from '../../src/assemble/mapping.js';
import { settle } from '../../src/deliver/queue-state.js';
import { verdictsFor } from '../../src/deliver/verdicts.js';
import type { RecordOutcome } from '../../src/deliver/outcomes.js';
import { takeHeldLease, type Lease } from '../../src/queue/lease.js';
import type { AssembleResult } from '../../src/assemble/decide.js';
import { sql } from '../harness/db.js';
import { demoConfig, sampleCrm } from './crm-fixture.js';

/**
 * Assembly against the sample CRM (sql/crm) seeded with 40 customers, in a process whose local
 * timezone is America/Los_Angeles: a driver-parsed date would land on the previous day.
 */
let url: string;
let crm: pg.Pool;
let state: StateDb;
let catalog: MappingCatalog;
let config: Config;
let asm: Assembler;
let lease: Lease;
const savedTz = process.env.TZ;

async function assembler(cfg: Config): Promise<Assembler> {
  return prepareAssembler({ config: cfg, crm, state, catalog: await readCatalog(crm, mappedTables(cfg)) });
}
async function one(a: Assembler, key: string): Promise<AssembleResult> {
  return (await a.assemble([key]))[0]!;
}
/** What the daemon writes once CareCycle accepted every record of `r`: the settle of its verdict. */
async function commit(r: AssembleResult) {
  const outcomes = r.records.map((_, index): RecordOutcome => ({ key: r.key, index, externalId: null, status: 'delivered' }));
  const counts = await settle(state, [], verdictsFor([r], outcomes), lease, String(Date.now() / 1000));
  expect(counts.fenced).toBeUndefined();
}

beforeAll(async () => {
  process.env.TZ = 'America/Los_Angeles';
  url = await sampleCrm('assemble', 40);
  // The database's own timezone decides the calendar date of a timestamptz (what psql shows).
  const db = new URL(url).pathname.slice(1);
  await sql(url, `ALTER DATABASE "${db}" SET timezone = 'UTC'`);
  config = demoConfig(url);
  crm = new pg.Pool({ connectionString: url, max: 3 });
  state = openStateDb(config, { max: 2 });
  catalog = await readCatalog(crm, mappedTables(config));
  asm = await assembler(config);
  ({ lease } = await takeHeldLease(state, config.source.slot));
});

afterAll(async () => {
  process.env.TZ = savedTz;
  await state?.close();
  await crm?.end();
});

describe('assemble with the demo mapping', () => {
  it('builds records from every field form, with dates unshifted in a non-UTC process', async () => {
    expect(new Date(2020, 0, 1).getTimezoneOffset()).toBe(480);
    const [c] = await sql(url, `SELECT to_char(birth_date, 'MM-DD-YYYY') AS dob, zip, lead_source FROM customers WHERE id = 17`);
    const policies = await sql(
      url,
      `SELECT id, hs_policy_id, carrier_policy_id, status, to_char(effective_date, 'MM-DD-YYYY') AS eff, premium::text AS premium FROM policies WHERE customer_id = 17 ORDER BY id`,
    );
    const r = await one(asm, '17');
    expect(r.verdict).toBe('send');
    expect(r.records).toHaveLength(1);
    const rec = r.records[0]!;
    expect(rec).toMatchObject({
      externalId: '17',
      firstName: 'Hana',
      lastName: 'Smith',
      phoneNumber: '(555) 100-0017',
      email: 'customer17@example.com',
      postalCode: c!.zip,
      dateOfBirth: c!.dob,
      gender: 'Female',
      doNotCall: true, // {sql: "dnc_flag = 'Y'"}: 17 % 17 = 0
      customFields: [{ fieldKey: 'lead_source', value: c!.lead_source }],
    });
    expect(rec.policies).toEqual(
      policies.map((p) => ({
        healthSherpaPolicyId: p.hs_policy_id,
        carrierAssignedPolicyId: p.carrier_policy_id,
        status: p.status === 'active' ? 'Active' : 'Cancelled',
        effectiveDate: p.eff,
        monthlyPremium: p.premium,
      })),
    );
    expect(r.commit!.policies.map((p) => p.policyKey)).toEqual(policies.map((p) => String(p.id)));
    expect(r.commit!.identity).toMatchObject({ externalId: '17', firstName: 'Hana', phoneNumber: '(555) 100-0017' });
  });

  it('reads a timestamptz as its calendar date in the database timezone, not the process one', async () => {
    await sql(url, `ALTER TABLE policies ADD COLUMN signed_at timestamptz`);
    await sql(url, `UPDATE policies SET signed_at = '2025-03-01 00:00:00+00' WHERE customer_id = 3`);
    const cfg = demoConfig(url, (raw) => (raw.policies.fields.enrollmentDate = { column: 'signed_at', transform: 'date' }));
    const r = await one(await assembler(cfg), '3');
    expect(r.records[0]!.policies![0]!.enrollmentDate).toBe('03-01-2025');
  });

  it('uses defaults, transforms, a {sql} subquery over the row and sync.dateFormat', async () => {
    await sql(url, `INSERT INTO customer_phones (customer_id, phone) VALUES (5, '1'), (5, '2')`);
    await sql(url, `UPDATE customers SET first_name = '  Eli  ', notes = NULL WHERE id = 5`);
    const cfg = demoConfig(url, (raw) => {
      raw.sync.dateFormat = 'MM/DD/YYYY';
      raw.customers.fields.firstName = { column: 'first_name', transform: 'trim' };
      raw.customers.fields.language = { column: 'notes', default: 'English' };
      raw.customers.fields.state = { column: 'lead_source', transform: 'upper' };
      raw.customers.customFields.phones = {
        sql: '(SELECT count(*) FROM customer_phones WHERE customer_phones.customer_id = customers.id)',
      };
    });
    const [c] = await sql(url, `SELECT to_char(birth_date, 'MM/DD/YYYY') AS dob, upper(lead_source) AS st FROM customers WHERE id = 5`);
    const rec = (await one(await assembler(cfg), '5')).records[0]!;
    expect(rec).toMatchObject({ firstName: 'Eli', language: 'English', state: c!.st, dateOfBirth: c!.dob });
    expect(rec.customFields).toContainEqual({ fieldKey: 'phones', value: '2' });
  });

  it('applies where filters on customers and policies', async () => {
    await sql(url, `UPDATE policies SET line_of_business = 'Medicare' WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 8)`);
    const [{ n }] = (await sql(url, `SELECT count(*)::int AS n FROM policies WHERE customer_id = 8 AND line_of_business = 'ACA'`)) as [
      { n: number },
    ];
    const r = await one(asm, '8');
    expect(r.records[0]!.policies).toHaveLength(n);
    await sql(url, `UPDATE customers SET deleted_at = now() WHERE id = 9`);
    const d = await one(asm, '9');
    expect(d).toMatchObject({ verdict: 'deleted', deleteAction: 'ignore', records: [], commit: null });
  });

  it('splits a customer with 23 policies into 10 + 10 + 3 with the same identifiers', async () => {
    await sql(
      url,
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status) SELECT 10, 'HS-X-' || n, 'CP-X-' || n, 'active' FROM generate_series(1, 21) n`,
    );
    const r = await one(asm, '10');
    expect(r.verdict).toBe('send');
    expect(r.records.map((x) => x.policies!.length)).toEqual([10, 10, 3]);
    expect(new Set(r.records.map((x) => `${x.externalId}|${x.firstName}|${x.phoneNumber}`)).size).toBe(1);
    expect(r.commit!.policies).toHaveLength(23);
  });
});

describe('what was sent before', () => {
  it('skips an unchanged record, also after a change to an unmapped column, and re-sends a mapped change', async () => {
    const first = await one(asm, '11');
    expect(first.verdict).toBe('send');
    await commit(first);
    expect((await one(asm, '11')).verdict).toBe('unchanged');
    await sql(url, `UPDATE customers SET notes = 'called', updated_at = now() WHERE id = 11`);
    const again = await one(asm, '11');
    expect(again).toMatchObject({ verdict: 'unchanged', records: [] });
    await sql(url, `UPDATE customers SET email = 'new11@example.com' WHERE id = 11`);
    const changed = await one(asm, '11');
    expect(changed.verdict).toBe('send');
    expect(changed.records[0]!.email).toBe('new11@example.com');
  });

  it('sends a vanished policy once more as Cancelled with its remembered identifiers, then forgets it', async () => {
    await commit(await one(asm, '14'));
    const [gone] = await sql(
      url,
      `DELETE FROM policies WHERE id = (SELECT max(id) FROM policies WHERE customer_id = 14 AND status = 'active') RETURNING id::text, hs_policy_id, carrier_policy_id`,
    );
    const r = await one(asm, '14');
    expect(r.verdict).toBe('send');
    expect(r.vanished).toEqual([gone!.id]);
    expect(r.records[0]!.policies!.at(-1)).toEqual({
      healthSherpaPolicyId: gone!.hs_policy_id,
      carrierAssignedPolicyId: gone!.carrier_policy_id,
      status: 'Cancelled',
    });
    expect(r.commit!.forgetPolicies).toEqual([gone!.id]);
    await commit(r);
    expect((await sql(url, `SELECT 1 FROM carecycle_sync.sent_policies WHERE policy_key = $1`, [gone!.id])).length).toBe(0);
    expect((await one(asm, '14')).verdict).toBe('unchanged');
  });

  it('treats a policy leaving policies.where as vanished; onPolicyDelete=ignore sends nothing', async () => {
    await commit(await one(asm, '16'));
    await sql(url, `UPDATE policies SET line_of_business = 'Dental' WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 16)`);
    const ignoring = await assembler(demoConfig(url, (raw) => (raw.sync.onPolicyDelete = 'ignore')));
    const [left] = await sql(url, `SELECT hs_policy_id FROM policies WHERE customer_id = 16 AND line_of_business = 'Dental'`);
    const quiet = await one(ignoring, '16');
    // The record changed (one policy fewer), but nothing is sent for the policy that left.
    expect(quiet.verdict).toBe('send');
    expect(quiet.records[0]!.policies!.map((p) => p.healthSherpaPolicyId)).not.toContain(left!.hs_policy_id);
    expect(quiet.commit!.forgetPolicies).toHaveLength(1);
    const terminated = await one(await assembler(demoConfig(url, (raw) => (raw.sync.onPolicyDelete = 'Terminated'))), '16');
    expect(terminated.records[0]!.policies!.at(-1)!.status).toBe('Terminated');
  });

  it('does not cancel a policy that moved to another customer', async () => {
    await commit(await one(asm, '20'));
    await sql(url, `UPDATE policies SET customer_id = 21 WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 20)`);
    const [a, b] = await asm.assemble(['20', '21']);
    expect(a!.vanished).toHaveLength(1);
    expect(a!.records[0]!.policies!.every((p) => p.status !== 'Cancelled' || !p.healthSherpaPolicyId?.startsWith('HS-20-1'))).toBe(true);
    expect(a!.commit!.forgetPolicies).toEqual(a!.vanished);
    expect(b!.records[0]!.policies!.some((p) => p.healthSherpaPolicyId === 'HS-20-1')).toBe(true);
  });

  it('a deleted customer: ignore does nothing, cancel-policies sends its remembered policies as Cancelled', async () => {
    const sent = await one(asm, '22');
    await commit(sent);
    await sql(url, `DELETE FROM policies WHERE customer_id = 22`);
    await sql(url, `DELETE FROM customers WHERE id = 22`);
    expect(await one(asm, '22')).toMatchObject({ verdict: 'deleted', deleteAction: 'ignore', records: [] });
    const cancelling = await assembler(demoConfig(url, (raw) => (raw.sync.onCustomerDelete = 'cancel-policies')));
    const r = await one(cancelling, '22');
    expect(r).toMatchObject({ verdict: 'deleted', deleteAction: 'cancel-policies' });
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({
      externalId: '22',
      firstName: sent.records[0]!.firstName,
      phoneNumber: sent.records[0]!.phoneNumber,
    });
    expect(r.records[0]!.policies).toEqual(
      sent.commit!.policies.filter((p) => p.status !== 'Cancelled').map((p) => ({ ...p.identifiers, status: 'Cancelled' })),
    );
    await commit(r);
    expect(await one(cancelling, '22')).toMatchObject({ verdict: 'deleted', records: [], commit: null });
  });
});

describe('invalid records and wrong configs', () => {
  it('reports no phone, a bad date and an unmapped gender with field paths, without sending', async () => {
    await sql(url, `UPDATE customers SET phone = NULL WHERE id = 25`);
    await sql(url, `UPDATE customers SET phone = '555-12' WHERE id = 26`);
    await sql(url, `UPDATE customers SET sex = 'X' WHERE id = 27`);
    await sql(url, `UPDATE customers SET notes = '31/31/1990' WHERE id = 28`);
    await sql(url, `UPDATE policies SET status = 'lapsed' WHERE id = (SELECT max(id) FROM policies WHERE customer_id = 29)`);
    const cfg = demoConfig(url, (raw) => (raw.customers.fields.dateOfBirth = { column: 'notes', transform: 'date' }));
    const rs = await (await assembler(cfg)).assemble(['25', '26', '27', '28', '29', '30']);
    const first = (r: AssembleResult) => [r.verdict, r.issues[0]?.path];
    expect(rs.map(first)).toEqual([
      ['invalid', 'phoneNumber'],
      ['invalid', 'phoneNumber'],
      ['invalid', 'gender'],
      ['invalid', 'dateOfBirth'],
      ['invalid', `policies[${Number((await sql(url, 'SELECT count(*) AS n FROM policies WHERE customer_id = 29'))[0]!.n) - 1}].status`],
      ['send', undefined],
    ]);
    expect(rs[1]!.issues[0]!.reason).toContain('"555-12" is not a phone number');
    expect(rs[2]!.issues[0]!.reason).toBe('"X" has no entry in customers.fields.gender.map (known: "M", "F")');
    expect(rs[3]!.issues[0]!.reason).toMatch(/^"31\/31\/1990" is not a real calendar date \(customers\.fields\.dateOfBirth\)$/);
    expect(rs.slice(0, 5).every((r) => r.records.length === 0 && r.commit === null && r.payload!.length === 1)).toBe(true);
  });

  it('names the key path of a wrong column, enum target, where and {sql} (ConfigError, exit 2)', async () => {
    const bad = demoConfig(url, (raw) => {
      raw.customers.fields.phoneNumber.column = 'phone_no';
      raw.customers.fields.gender.map.M = 'Man';
    });
    expect((await checkMapping(bad, catalog, crm)).map(formatProblem)).toEqual([
      'customers.fields.phoneNumber.column: column "phone_no" does not exist in public.customers',
      'customers.fields.gender.map.M: "Man" is not a gender; expected one of Male, Female, Non-Binary, Other, Prefer Not to Say',
    ]);
    const badSql = demoConfig(url, (raw) => {
      raw.customers.where = 'deleted_at IS NULL AND';
      raw.customers.fields.doNotCall = { sql: "dnc = 'Y'" };
      raw.policies.where = "line_of_busines = 'ACA'";
    });
    const problems = await checkMapping(badSql, catalog, crm);
    expect(problems.map((p) => p.code)).toEqual(['42601', '42703', '42703']);
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^customers\.where: syntax error at or near "\)" \(SQLSTATE 42601\)/),
      expect.stringMatching(/^customers\.fields\.doNotCall\.sql: column "dnc" does not exist \(SQLSTATE 42703\)/),
      expect.stringMatching(/^policies\.where: column "line_of_busines" does not exist \(SQLSTATE 42703\)/),
    ]);
    const err = await prepareAssembler({ config: badSql, crm, state, catalog, file: 'crm.yaml' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).problems[0]).toMatch(/^crm\.yaml: customers\.where: /);
    expect(() => createAssembler({ config: bad, crm, state, catalog })).toThrow(ConfigError);
  });
});

describe('convention mapping', () => {
  it('maps snake_case columns named after ACA fields when fields is absent', async () => {
    await sql(
      url,
      `CREATE TABLE people (person_id uuid PRIMARY KEY, first_name text, last_name text, phone_number text, postal_code text,
         date_of_birth date, do_not_call boolean, household_income numeric, marital_status text, notes text);
       INSERT INTO people VALUES ('6f1c0d1e-6c55-4b3f-9a57-2a9c1b0c3d4e', 'Ana', 'Lopez', '+1 555 000 1111', '02134',
         '1984-02-29', false, 52000, 'Married', 'ignored')`,
    );
    const cfg = demoConfig(url, (raw) => {
      raw.customers = { table: 'people', key: 'person_id' };
      delete raw.policies;
      raw.watch = [];
    });
    const r = await one(await assembler(cfg), '6f1c0d1e-6c55-4b3f-9a57-2a9c1b0c3d4e');
    expect(r.issues).toEqual([]);
    expect(r.verdict).toBe('send');
    expect(r.records).toEqual([
      {
        firstName: 'Ana',
        lastName: 'Lopez',
        phoneNumber: '(555) 000-1111',
        postalCode: '02134',
        dateOfBirth: '02-29-1984',
        maritalStatus: 'Married',
        householdIncome: 52000,
        doNotCall: false,
        externalId: '6f1c0d1e-6c55-4b3f-9a57-2a9c1b0c3d4e',
      },
    ]);
  });
});
