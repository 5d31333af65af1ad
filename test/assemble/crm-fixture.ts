import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { sqlDir, packageRoot } from '../../src/paths.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { migrate } from '../../src/state/migrate.js';
import { freshDatabase, sql } from '../harness/db.js';

/** A fresh database with the sample CRM (sql/crm) seeded with `customers` rows and the state schema. */
export async function sampleCrm(name: string, customers: number, opts: { state?: boolean } = {}): Promise<string> {
  const url = await freshDatabase(name);
  const schema = readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8');
  const seed = readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers));
  await sql(url, schema);
  await sql(url, seed);
  if (opts.state === false) return url;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await migrate(c, 'carecycle_sync');
  } finally {
    await c.end();
  }
  return url;
}

/** The demo config (config/demo.yaml) pointed at `url`, with `patch` applied to the raw object. */
export function demoConfig(url: string, patch: (raw: any) => void = () => undefined): Config {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source.url = url;
  raw.carecycle = { baseUrl: 'http://127.0.0.1:1', requestsPerMinute: 60 };
  patch(raw);
  return validateConfig(raw);
}
