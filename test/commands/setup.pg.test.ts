import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { runSetup, setupSql } from '../../src/commands/setup.js';
import { INITIAL_BACKFILL_DOC } from '../../src/state/runtime.js';
import { runTeardown } from '../../src/commands/teardown.js';
import { listMigrations, migrate } from '../../src/state/migrate.js';
import { ConfigError } from '../../src/errors.js';
import { sql } from '../harness/db.js';
import { crmDatabase, slotFor, streamingConfig } from '../harness/fixtures.js';
import { testTempDir } from '../harness/tmp.js';

const slotOf = (url: string, slot = slotFor(url)) =>
  sql<{ plugin: string; confirmed: string }>(
    url,
    'SELECT plugin, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()',
    [slot],
  );
const pubTables = (url: string) =>
  sql<{ t: string }>(
    url,
    "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = 'carecycle_sync' ORDER BY 1",
  );

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// Projects do not inherit the root testTimeout: give these real-Postgres tests room.
describe('setup', { timeout: 60_000 }, () => {
  it('creates state schema, publication and slot, records the new slot, and is idempotent', async () => {
    const url = await crmDatabase('setup-basic');
    const config = streamingConfig(url);
    const first = await runSetup(config);
    expect(first.slotCreated).toBe(true);
    expect((await slotOf(url))[0]?.plugin).toBe('pgoutput');
    expect((await pubTables(url)).map((r) => r.t)).toEqual(['public.customer_phones', 'public.customers', 'public.policies']);
    const rt = await sql<{ value: { status: string; slot: string } }>(url, 'SELECT value FROM carecycle_sync.runtime WHERE name = $1', [
      INITIAL_BACKFILL_DOC,
    ]);
    expect(rt[0]?.value).toMatchObject({ status: 'requested', slot: config.source.slot });
    // customer_phones has REPLICA IDENTITY DEFAULT: deletes there cannot name the customer.
    expect(first.warnings.map((w) => w.path)).toEqual(['watch[0].table']);

    await sql(url, "UPDATE carecycle_sync.runtime SET value = jsonb_set(value, '{status}', '\"started\"') WHERE name = $1", [
      INITIAL_BACKFILL_DOC,
    ]);
    const second = await runSetup(config);
    expect(second.slotCreated).toBe(false);
    expect(second.actions.join('\n')).toMatch(/up to date[\s\S]*up to date[\s\S]*exists/);
    const rt2 = await sql<{ value: { status: string } }>(url, 'SELECT value FROM carecycle_sync.runtime WHERE name = $1', [
      INITIAL_BACKFILL_DOC,
    ]);
    expect(rt2[0]?.value.status).toBe('started');
  });

  it('names the missing table or column by its config key and creates nothing', async () => {
    const url = await crmDatabase('setup-missing');
    const config = streamingConfig(url, (c) => {
      c.policies!.customerKey = 'client_id';
      c.watch = [{ table: 'public.no_such_table', customerKey: 'customer_id' }];
    });
    const err = await runSetup(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/policies\.customerKey: column "client_id" does not exist in public\.policies/);
    expect(problems).toMatch(/watch\[0\]\.table: table public\.no_such_table does not exist/);
    expect(await slotOf(url)).toEqual([]);
  });

  it('refuses a table without primary key or replica identity (publishing it would break the CRM updates)', async () => {
    const url = await crmDatabase('setup-noident');
    await sql(url, 'CREATE TABLE notes (customer_id bigint, body text)');
    const config = streamingConfig(url, (c) => {
      c.watch = [{ table: 'notes', customerKey: 'customer_id' }];
    });
    const err = (await runSetup(config).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems.join('\n')).toMatch(/watch\[0\]\.table: public\.notes has no primary key[\s\S]*REPLICA IDENTITY FULL/);
  });

  it('follows a config change: a new watch table is added to the publication', async () => {
    const url = await crmDatabase('setup-follow');
    await runSetup(
      streamingConfig(url, (c) => {
        c.watch = [];
      }),
    );
    expect((await pubTables(url)).map((r) => r.t)).toEqual(['public.customers', 'public.policies']);
    const again = await runSetup(streamingConfig(url));
    expect(again.actions.join('\n')).toMatch(/added public\.customer_phones/);
    expect((await pubTables(url)).map((r) => r.t)).toContain('public.customer_phones');
  });

  it('is safe when two instances run it at once', async () => {
    const url = await crmDatabase('setup-race');
    const config = streamingConfig(url);
    const results = await Promise.all([runSetup(config), runSetup(config), runSetup(config)]);
    expect(results.filter((r) => r.slotCreated)).toHaveLength(1);
    expect(await slotOf(url)).toHaveLength(1);
    const migs = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM carecycle_sync.schema_migrations');
    expect(Number(migs[0]!.n)).toBe(listMigrations().length);
  });

  it('applies migrations once when two migrate() calls race on a fresh schema', async () => {
    const url = await crmDatabase('migrate-race');
    const clients = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const applied = await Promise.all(clients.map((c) => migrate(c, 'race_state')));
      expect(applied.flat().sort()).toEqual(listMigrations().map((m) => m.name));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('--print-sql prints SQL that a DBA can run to the same effect', async () => {
    const url = await crmDatabase('setup-printsql');
    const config = streamingConfig(url);
    // psql runs each statement on its own; a multi-statement query would be one transaction,
    // in which Postgres refuses to create a slot. Run each numbered section separately.
    for (const section of setupSql(config).split(/^(?=-- \d\. )/m)) await sql(url, section);
    expect((await slotOf(url))[0]?.plugin).toBe('pgoutput');
    expect(await pubTables(url)).toHaveLength(3);
    const again = await runSetup(config);
    expect(again.slotCreated).toBe(false);
    expect(again.actions[0]).toMatch(/up to date/);
  });

  it('teardown drops slot and publication, and the state schema with dropState', async () => {
    const url = await crmDatabase('teardown');
    const config = streamingConfig(url);
    await runSetup(config);
    const done = await runTeardown(config, { dropState: false });
    expect(done.incomplete).toBe(false);
    expect(done.lines.join('\n')).toMatch(/slot "\w+": dropped[\s\S]*publication "carecycle_sync": dropped/);
    expect(await slotOf(url)).toEqual([]);
    expect(await sql(url, "SELECT 1 FROM pg_namespace WHERE nspname = 'carecycle_sync'")).toHaveLength(1);
    await runTeardown(config, { dropState: true });
    expect(await sql(url, "SELECT 1 FROM pg_namespace WHERE nspname = 'carecycle_sync'")).toHaveLength(0);
  });

  it('CLI: exit 2 naming the key path on a missing column; teardown without --yes refuses with exit 2', async () => {
    const url = await crmDatabase('setup-cli');
    const dir = testTempDir('ccs-cfg-');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `source: { url: '${url}', slot: ${slotFor(url)} }\ncustomers: { table: customers, key: customer_no }\n`);
    const bad = cli(['setup', '--config', file], {});
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/customers\.key: column "customer_no" does not exist in public\.customers/);

    await runSetup(streamingConfig(url));
    const refuse = cli(['teardown', '--config', file, '--drop-state'], {});
    expect(refuse.code).toBe(2);
    expect(refuse.err).toMatch(/would drop[\s\S]*replication slot "\w+"[\s\S]*state schema "carecycle_sync"/);
    expect(await slotOf(url)).toHaveLength(1);
  });
});
