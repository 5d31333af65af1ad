import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { sqlDir, packageRoot } from '../../src/paths.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { migrate } from '../../src/state/migrate.js';
import { freshDatabase, sql } from '../harness/db.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { testTempDir } from '../harness/tmp.js';

/** The sample CRM (sql/crm) seeded with `customers` rows into the database at `url`. */
export async function seedCrm(url: string, customers: number): Promise<void> {
  await sql(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
  if (customers > 0) await sql(url, readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers)));
}

export async function migrateState(url: string, schema = 'carecycle_sync'): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await migrate(c, schema);
  } finally {
    await c.end();
  }
}

/** A fresh database holding the sample CRM and the state schema. */
export async function crmWithState(name: string, customers: number): Promise<string> {
  const url = await freshDatabase(name);
  await seedCrm(url, customers);
  await migrateState(url);
  return url;
}

/** The demo config (config/demo.yaml) as a raw object pointed at `url`. */
export function demoRaw(url: string, stateUrl?: string): Record<string, any> {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source.url = url;
  if (stateUrl) raw.state = { ...raw.state, url: stateUrl };
  raw.carecycle = { baseUrl: 'http://127.0.0.1:1', requestsPerMinute: 60 };
  return raw;
}

export function demoConfig(url: string, stateUrl?: string, patch: (raw: any) => void = () => undefined): Config {
  const raw = demoRaw(url, stateUrl);
  patch(raw);
  return validateConfig(raw);
}

/** Writes `raw` as a YAML config file and returns its path. */
export function writeConfig(raw: Record<string, unknown>): string {
  const dir = testTempDir('ccs-cfg-');
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(raw));
  return path;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}


/** Runs the real CLI as a child process (`node --import tsx src/cli/main.ts …`). */
export function cli(args: string[], opts: { env?: Record<string, string>; onSpawn?: (kill: () => void) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(...args), {
      cwd: packageRoot(),
      env: { ...process.env, NO_COLOR: '1', LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    opts.onSpawn?.(() => child.kill('SIGKILL'));
  });
}
