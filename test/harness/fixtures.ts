import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { packageRoot, sqlDir } from '../../src/paths.js';
import { migrate } from '../../src/state/migrate.js';
import { cliArgs } from './cli-bundle.js';
import { freshDatabase, sql } from './db.js';
import { testTempDir } from './tmp.js';

/**
 * The fixtures test folders share: the sample CRM of sql/crm/, the state schema, the demo config
 * pointed at a test database, and the CLI as a child process. One copy here, so that no test
 * folder imports another's helpers.
 */

/** The sample CRM's tables (sql/crm/schema.sql). */
export const crmSchemaSql = (): string => readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8');

/** A fresh database holding the sample CRM's tables, empty. */
export async function crmDatabase(name: string): Promise<string> {
  const url = await freshDatabase(name);
  await sql(url, crmSchemaSql());
  return url;
}

/** The sample CRM (sql/crm) seeded with `customers` rows into the database at `url`. */
export async function seedCrm(url: string, customers: number): Promise<void> {
  await sql(url, crmSchemaSql());
  if (customers > 0) await sql(url, readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers)));
}

/** The state schema's migrations applied to the database at `url`. */
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

/**
 * Replication slots are cluster-wide, so every test database gets its own slot name (its own
 * database name, which the harness makes unique).
 */
export const slotFor = (url: string): string => new URL(url).pathname.slice(1).toLowerCase().slice(0, 63);

/** The demo config (config/demo.yaml) as a raw object pointed at `url`, CareCycle at a dead port. */
export function demoRaw(url: string, stateUrl?: string): Record<string, any> {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source.url = url;
  if (stateUrl) raw.state = { ...raw.state, url: stateUrl };
  raw.carecycle = { baseUrl: 'http://127.0.0.1:1', requestsPerMinute: 60 };
  return raw;
}

/** demoRaw, with `patch` applied to the raw object, validated. */
export function demoConfig(url: string, stateUrl?: string, patch: (raw: any) => void = () => undefined): Config {
  const raw = demoRaw(url, stateUrl);
  patch(raw);
  return validateConfig(raw);
}

/**
 * config/demo.yaml loaded as the CLI loads it (DATABASE_URL = `url`), with a slot of its own
 * (see slotFor), with `patch` applied to the validated config: for tests that stream.
 */
export function streamingConfig(url: string, patch: (c: Config) => void = () => undefined): Config {
  const { config } = loadConfig({ path: join(packageRoot(), 'config', 'demo.yaml'), env: { DATABASE_URL: url } });
  config.source.slot = slotFor(url);
  patch(config);
  return config;
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

/** Runs the real CLI as a child process (the bundle of test/harness/cli-bundle.ts). */
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
