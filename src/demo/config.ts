/**
 * The daemon's config for the demo: config/demo.yaml (the mapping of the sample CRM) with the
 * demo's own database, stand-in and key filled in, through the same loader and schema as any
 * user config, so the demo runs exactly what `carecycle-sync run` would.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { packageRoot } from '../paths.js';

export interface DemoConfigInput {
  databaseUrl: string;
  standInUrl: string;
  apiKey: string;
  requestsPerMinute: number;
}

export const demoConfigPath = (): string => join(packageRoot(), 'config', 'demo.yaml');

/** A fresh key for one demo run (the stand-in accepts only it; never printed). */
export const demoApiKey = (): string => `cc_demo_${randomBytes(16).toString('hex')}`;

export function demoConfig(i: DemoConfigInput): { config: Config; path: string } {
  const { config, path } = loadConfig({
    path: demoConfigPath(),
    env: { DATABASE_URL: i.databaseUrl, CARECYCLE_BASE_URL: i.standInUrl, CARECYCLE_API_KEY: i.apiKey, LOG_LEVEL: 'warn' },
  });
  const withRate = { ...config, carecycle: { ...config.carecycle, requestsPerMinute: i.requestsPerMinute } };
  return { config: validateConfig(withRate, path), path };
}
