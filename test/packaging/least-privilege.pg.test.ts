import { describe, it, expect, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { freshDatabase, sql } from '../harness/db.js';
import { loadConfig } from '../../src/config/load.js';
import { runSetup } from '../../src/commands/setup.js';
import { runDoctor, formatReport } from '../../src/commands/doctor/index.js';
import { runTeardown } from '../../src/commands/teardown.js';

/**
 * sql/roles/least-privilege.sql, applied with psql as the superuser, gives a role that can run
 * `setup` and pass `doctor` without owning a CRM table or having CREATE on the database, and
 * that can decode the stream of its publication.
 */
const run = promisify(execFile);
const psql = ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql'].find(existsSync);
const TABLES = 'public.customers, public.policies, public.customer_phones';
const role = `ccs_lp_${process.pid}`;
let adminUrl: string | undefined;

afterAll(async () => {
  if (adminUrl) {
    await sql(
      adminUrl,
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'carecycle_sync' AND database = current_database()`,
    );
    await sql(adminUrl, `DROP PUBLICATION IF EXISTS carecycle_sync; DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(
      () => undefined,
    );
  }
});

describe.skipIf(!psql)('sql/roles/least-privilege.sql', () => {
  it('makes a role that can set up, pass doctor and decode, with no CRM write and no CREATE on the database', async () => {
    adminUrl = await freshDatabase('least-privilege');
    await sql(adminUrl, readFileSync('sql/crm/schema.sql', 'utf8'));
    // As on a hardened server: nobody may create objects in the database or in public.
    await sql(
      adminUrl,
      `REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CREATE, TEMPORARY ON DATABASE "${new URL(adminUrl).pathname.slice(1)}" FROM PUBLIC`,
    );
    const apply = () =>
      run(psql!, [
        adminUrl!,
        '-X',
        '-q',
        '-v',
        `role=${role}`,
        '-v',
        'password=lp-secret',
        '-v',
        `tables=${TABLES}`,
        '-f',
        'sql/roles/least-privilege.sql',
      ]);
    await apply();
    await apply(); // idempotent

    const u = new URL(adminUrl);
    u.username = role;
    u.password = 'lp-secret';
    const config = loadConfig({
      path: 'config/demo.yaml',
      env: { DATABASE_URL: u.toString(), CARECYCLE_API_KEY: 'cc_unused_here' },
    }).config;
    const result = await runSetup(config);
    expect(result.slotCreated).toBe(true);
    expect(result.actions.join('\n')).toMatch(/publication "carecycle_sync": up to date/);

    const report = await runDoctor(config, { skipApi: true });
    expect(
      report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
      formatReport(report),
    ).toEqual([]);
    expect(report.checks.find((c) => c.name === 'replication privilege')?.detail).toMatch(/REPLICATION attribute/);

    const facts = await sql<{ super: boolean; can_write: boolean; can_create: boolean }>(
      u.toString(),
      `SELECT rolsuper AS super, has_table_privilege('public.customers', 'INSERT, UPDATE, DELETE') AS can_write,
              has_database_privilege(current_database(), 'CREATE') AS can_create FROM pg_roles WHERE rolname = current_user`,
    );
    expect(facts[0]).toEqual({ super: false, can_write: false, can_create: false });

    // The role decodes its publication's changes (and may write heartbeat messages).
    // The SQL decoding functions read up to the flushed WAL; the test cluster runs with
    // synchronous_commit=off, so flush these commits.
    await sql(
      adminUrl,
      `SET synchronous_commit = on; INSERT INTO customers (first_name, last_name, phone, zip) VALUES ('Lee', 'Park', '5550001111', '10001')`,
    );
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    try {
      await c.query('SET synchronous_commit = on');
      await c.query(`SELECT pg_logical_emit_message(true, 'carecycle_sync', 'heartbeat')`);
      const { rows } = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_logical_slot_peek_binary_changes('carecycle_sync', NULL, NULL, 'proto_version', '1', 'publication_names', 'carecycle_sync', 'messages', 'true')`,
      );
      expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(3);
      await expect(c.query(`UPDATE customers SET first_name = 'x'`)).rejects.toThrow(/permission denied/);
    } finally {
      await c.end();
    }

    // Uninstalling as the role: the slot and the state go; the DBA's publication stays, and the
    // output says what its owner runs (the README's uninstall steps).
    const down = await runTeardown(config, { dropState: true });
    expect(down.incomplete).toBe(true);
    expect(down.lines.join('\n')).toMatch(
      /slot "carecycle_sync": dropped[\s\S]*NOT dropped.*DROP PUBLICATION "carecycle_sync";[\s\S]*state schema "carecycle_sync": dropped/,
    );
    expect(await sql(adminUrl, `SELECT 1 FROM pg_replication_slots WHERE slot_name = 'carecycle_sync'`)).toEqual([]);
    expect(await sql(adminUrl, `SELECT 1 FROM pg_publication WHERE pubname = 'carecycle_sync'`)).toHaveLength(1);
  });

  it('refuses to run without the tables variable', async () => {
    const url = await freshDatabase('least-privilege-novar');
    const err = await run(psql!, [url, '-X', '-q', '-v', `role=${role}_x`, '-f', 'sql/roles/least-privilege.sql']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).not.toBe(0);
    expect(err?.stderr).toMatch(/set -v tables=/);
    const roles = await sql(url, `SELECT 1 FROM pg_roles WHERE rolname = $1`, [`${role}_x`]);
    expect(roles).toHaveLength(0);
  });
});
