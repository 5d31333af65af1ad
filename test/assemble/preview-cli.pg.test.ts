import { describe, it, expect, beforeAll, inject } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { packageRoot } from '../../src/paths.js';
import { migrate } from '../../src/state/migrate.js';
import { sql } from '../harness/db.js';
import { sampleCrm } from './crm-fixture.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { testTempDir } from '../harness/tmp.js';

/** `carecycle-sync preview` as a user runs it: a child process, no API key, a non-UTC timezone. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
let url: string;
const dir = testTempDir('ccs-preview-');
const demo = readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8');

function writeConfig(name: string, edit: (yaml: string) => string = (y) => y): string {
  const file = join(dir, name);
  writeFileSync(file, edit(demo));
  return file;
}

function preview(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, TZ: 'America/Los_Angeles', LOG_LEVEL: 'warn', NO_COLOR: '1' };
  delete env.CARECYCLE_API_KEY;
  delete env.CARECYCLE_API_KEY_FILE;
  delete env.STATE_DATABASE_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgs('preview', ...args), { cwd: packageRoot(), env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Each child pays for tsx start-up (seconds on a loaded 2-core machine) and preview does not
// depend on the server version: run these on the first Postgres major of the matrix only.
const firstMajor = (process.env.PG_TEST_MAJORS ?? '15,18').split(',')[0]!.trim();
const onFirstMajor = inject('pgVersion').split('.')[0] === firstMajor;

describe.runIf(onFirstMajor)('carecycle-sync preview', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    url = await sampleCrm('preview_cli', 12, { state: false });
  });

  it('prints the first N records as JSON with verdicts before setup, with exact dates, and no API key', async () => {
    const r = await preview(['--config', writeConfig('demo.yaml'), '--limit', '3', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sent).toBe(false);
    expect(out.note).toContain('not set up');
    expect(out.results.map((x: { key: string; verdict: string }) => [x.key, x.verdict])).toEqual([
      ['1', 'valid'],
      ['2', 'valid'],
      ['3', 'valid'],
    ]);
    const dobs = await sql(url, `SELECT to_char(birth_date, 'MM-DD-YYYY') AS d FROM customers WHERE id <= 3 ORDER BY id`);
    expect(out.results.map((x: { records: Array<{ dateOfBirth: string }> }) => x.records[0]!.dateOfBirth)).toEqual(dobs.map((d) => d.d));
    expect(out.summary).toMatchObject({ customers: 3, valid: 3, invalid: 0 });
  });

  it('shows invalid records with field path and reason, and deleted ones, for --key', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await migrate(c, 'carecycle_sync');
    await c.end();
    await sql(url, `UPDATE customers SET phone = NULL WHERE id = 2`);
    await sql(url, `UPDATE customers SET deleted_at = now() WHERE id = 4`);
    const r = await preview(['--config', writeConfig('demo.yaml'), '--key', '2', '--key', '4', '--key', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('customer 2: INVALID at phoneNumber:');
    expect(r.stdout).toContain('customer 4: deleted or outside customers.where: onCustomerDelete=ignore, nothing to send');
    expect(r.stdout).toMatch(/customer 5: valid: 1 record, \d polic/);
    expect(r.stdout).toContain('"externalId": "5"');
    expect(r.stdout).toContain('3 customers: 1 valid (1 record), 1 invalid, 0 unchanged, 1 deleted. Nothing was sent.');
    expect(r.stdout).not.toContain('note:');
    expect((await sql(url, 'SELECT count(*)::int AS n FROM carecycle_sync.sent'))[0]!.n).toBe(0);
  });

  it('exits 2 naming the file and key path of a wrong column, and of a bad --key', async () => {
    const file = writeConfig('bad.yaml', (y) => y.replace('{ column: phone, transform: phone }', '{ column: phone_no, transform: phone }'));
    const r = await preview(['--config', file, '--limit', '1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: customers.fields.phoneNumber.column: column "phone_no" does not exist in public.customers`);
    const k = await preview(['--config', writeConfig('demo.yaml'), '--key', 'abc']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain('not a valid customers.key (id, bigint)');
  });
});
