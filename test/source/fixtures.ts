import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { packageRoot, sqlDir } from '../../src/paths.js';
import { freshDatabase, sql } from '../harness/db.js';

/** A fresh database holding the sample CRM's tables (sql/crm/schema.sql), empty. */
export async function crmDatabase(name: string): Promise<string> {
  const url = await freshDatabase(name);
  await sql(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
  return url;
}

/**
 * Replication slots are cluster-wide, so every test database gets its own slot name (its own
 * database name, which the harness makes unique).
 */
export const slotFor = (url: string): string => new URL(url).pathname.slice(1).toLowerCase().slice(0, 63);

/** config/demo.yaml pointed at `url` with a slot of its own, with optional overrides. */
export function demoConfig(url: string, patch: (c: Config) => void = () => undefined): Config {
  const { config } = loadConfig({ path: join(packageRoot(), 'config', 'demo.yaml'), env: { DATABASE_URL: url } });
  config.source.slot = slotFor(url);
  patch(config);
  return config;
}
