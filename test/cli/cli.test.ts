import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../harness/cli-bundle.js';

/** The real command line, as a child process: exit codes and output are what an operator sees. */
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ccs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const API_KEY = 'cc_live_CliSecretKey0042';
const DB_PASSWORD = 'Crm-Pw-0042!';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(CARECYCLE_|DATABASE_URL|STATE_DATABASE_URL|LOG_LEVEL|PORT)/.test(k)),
  );
  return new Promise((done) => {
    execFile(process.execPath, cliArgs(...args), { cwd: ROOT, env: { ...clean, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const secretsEnv = { CARECYCLE_API_KEY: API_KEY, DATABASE_URL: `postgres://crm:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:1/crm` };

describe('carecycle-sync command line', () => {
  it('--help and <command> --help exit 0 and describe the commands and exit codes', async () => {
    const [top, sub] = await Promise.all([cli(['--help']), cli(['check-config', '--help'])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: carecycle-sync');
    expect(top.stdout).toContain('check-config');
    expect(top.stdout).toContain('Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid config');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--config <file>');
  });

  it('exits 2 on bad usage', async () => {
    const unknownCommand = await cli(['no-such-command']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain("unknown command 'no-such-command'");
  });

  it('exits 2 on an invalid config, listing every problem, with no secret in any output', async () => {
    const path = file(
      'invalid.yaml',
      'source: { url: "${DATABASE_URL}", slot: "bad-slot" }\ncarecycle: { apiKey: "${CARECYCLE_API_KEY}", rpm: 5 }\nsync: { onPolicyDelete: Vanished }\ncustomers: { table: customers }\n',
    );
    const r = await cli(['check-config', '--config', path], secretsEnv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${path}: invalid config (3 problems)`);
    expect(r.stderr).toContain(`${path}: source.slot:`);
    expect(r.stderr).toContain(`${path}: carecycle: unknown key "rpm"`);
    expect(r.stderr).toContain(`${path}: sync.onPolicyDelete:`);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    expect(r.stdout + r.stderr).not.toContain(DB_PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(DB_PASSWORD));
  });

  it('names the unset variable of a missing required value, and finds the file through CARECYCLE_SYNC_CONFIG', async () => {
    const path = file('unset.yaml', 'source: { url: "${CCS_CLI_TEST_DB}" }\ncustomers: { table: customers }\n');
    const r = await cli(['check-config'], { CARECYCLE_SYNC_CONFIG: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}: source.url: required, expected string (it refers to \${CCS_CLI_TEST_DB}, which is not set)`);
  });

  it('exits 2 on bad YAML', async () => {
    const bad = file('bad.yaml', 'source:\n  url: [unclosed\n');
    const syntax = await cli(['check-config', '-c', bad]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/bad\.yaml: YAML syntax: .*line \d+, column \d+/);
  });

  it('check-config prints the effective config with the key and the password redacted', async () => {
    const path = file(
      'valid.yaml',
      'source: { url: "${DATABASE_URL}" }\ncarecycle: { apiKey: "${CARECYCLE_API_KEY}" }\ncustomers: { table: customers }\n',
    );
    const r = await cli(['check-config', '-c', path, '--json'], { ...secretsEnv, LOG_LEVEL: 'debug' });
    expect(r.code).toBe(0);
    const shown = JSON.parse(r.stdout) as {
      source: { url: string };
      carecycle: { apiKey: string; requestsPerMinute: number };
      log: { level: string };
    };
    expect(shown.carecycle.apiKey).toBe('[REDACTED]');
    expect(shown.source.url).toBe('postgres://crm:[REDACTED]@127.0.0.1:1/crm');
    expect(shown.carecycle.requestsPerMinute).toBe(60);
    expect(shown.log.level).toBe('debug');
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(DB_PASSWORD));
  });
});
