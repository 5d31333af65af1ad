import { describe, it, expect, beforeAll, inject } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { freshDatabase, sql } from '../harness/db.js';
import { sampleCrm } from '../assemble/crm-fixture.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { testTempDir } from '../harness/tmp.js';

/** `carecycle-sync init` as a user runs it: exit codes, never overwriting without --force. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const dir = testTempDir('ccs-init-cli-');

function cli(args: string[], env: NodeJS.ProcessEnv = {}, command = 'init'): Promise<Run> {
  const full: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', NO_COLOR: '1', ...env };
  if (!env.DATABASE_URL) delete full.DATABASE_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, cliArgs(command, ...args), { cwd: packageRoot(), env: full, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Child processes are slow to start on a loaded machine, and exit codes do not depend on the server version.
const firstMajor = (process.env.PG_TEST_MAJORS ?? '15,18').split(',')[0]!.trim();
const onFirstMajor = inject('pgVersion').split('.')[0] === firstMajor;

describe.runIf(onFirstMajor)('carecycle-sync init (command line)', { timeout: 120_000 }, () => {
  let url: string;
  beforeAll(async () => {
    url = await sampleCrm('init_cli', 300, { state: false });
  });

  it('writes the config and exits 0; exits 2 rather than overwrite it, unless --force', async () => {
    const out = join(dir, 'proposed.yaml');
    const first = await cli(['--out', out], { DATABASE_URL: url });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`init: wrote ${out}: customers public.customers`);
    expect(first.stdout).toMatch(/preview of 300 sampled customers: 300 of 300 valid \(100 %\)/);
    // The next step of the README takes the file as it is.
    const preview = await cli(['--config', out, '--limit', '2', '--json'], { DATABASE_URL: url }, 'preview');
    expect(preview.code, preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout).summary).toMatchObject({ customers: 2, valid: 2 });
    writeFileSync(out, '# edited by hand\n');
    const again = await cli(['--out', out, '--database-url', url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists; pass --force to overwrite it');
    expect(readFileSync(out, 'utf8')).toBe('# edited by hand\n');
    const forced = await cli(['--out', out, '--database-url', url, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('table: public.customers');
  });

  it('exits 1 saying what it looked for when no table looks like customers', async () => {
    const empty = await freshDatabase('init_cli_empty');
    await sql(empty, 'CREATE TABLE things (id int PRIMARY KEY, name text)');
    const out = join(dir, 'none.yaml');
    const r = await cli(['--out', out, '--database-url', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no customer table found in schema public');
    expect(r.stderr).toContain('looked for a table with a single-column primary key');
    expect(() => readFileSync(out)).toThrow();
  });

  it('exits 1 when the database cannot be reached, without showing its password', async () => {
    const r = await cli(['--out', join(dir, 'z.yaml'), '--database-url', 'postgres://crm:Pw-not-shown-93@127.0.0.1:1/crm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('init: cannot connect to database crm');
    expect(r.stdout + r.stderr).not.toContain('Pw-not-shown-93');
  });

  it('exits 2 on usage errors: no database, a bad --sample', async () => {
    const none = await cli(['--out', join(dir, 'x.yaml')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no database: pass --database-url URL or set DATABASE_URL');
    const bad = await cli(['--out', join(dir, 'y.yaml'), '--database-url', url, '--sample', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sample must be a whole number from 10 to 5000, found "lots"');
  });
});
