import type pg from 'pg';
import { loadConfig } from '../config/load.js';
import { openSourcePool } from '../pg/pool.js';
import { ConfigError } from '../errors.js';
import { checkCaptureConfig, formatProblem, readCatalog, watchedTables } from '../pg/catalog.js';
import { checkMapping, createAssembler, nothingSent, resolveMapping, type AssembleResult } from '../assemble/index.js';
import { MAX_RECORDS_PER_REQUEST } from '../carecycle/enums.js';
import { tallyPreview, type PreviewTally } from './reasons.js';

/**
 * Proves a written proposal the way the other commands would judge it: the file is loaded and
 * validated as `check-config` does, checked against the catalog as `setup` does (tables, keys,
 * replica identity) and as the assembler's startup check does (columns, enum targets, every
 * `where` and `{sql}` prepared), then a sample of customers is assembled as `preview` would,
 * sending nothing. Read-only throughout.
 */
export interface Proof {
  /** Problems that make the config invalid, each starting with its key path. */
  problems: string[];
  /** Setup's warnings (e.g. a watch table whose deletes carry no customer key) and server notes. */
  warnings: string[];
  preview?: PreviewTally;
}

/** Options that make every statement of a connection read-only, whatever it runs. */
export const READ_ONLY_OPTIONS = '-c default_transaction_read_only=on -c statement_timeout=60000';

async function assembleSample(
  config: ReturnType<typeof loadConfig>['config'],
  crm: pg.Pool,
  keys: readonly string[],
): Promise<AssembleResult[]> {
  const catalog = await readCatalog(crm, watchedTables(config));
  const { plan } = resolveMapping(config, catalog);
  const assembler = createAssembler({ config, crm, plan: plan!, state: nothingSent });
  const results: AssembleResult[] = [];
  for (let i = 0; i < keys.length; i += MAX_RECORDS_PER_REQUEST)
    results.push(...(await assembler.assemble(keys.slice(i, i + MAX_RECORDS_PER_REQUEST))));
  return results;
}

async function walLevelNote(crm: pg.Pool): Promise<string | undefined> {
  const { rows } = await crm.query<{ wal_level: string }>('SHOW wal_level');
  const level = rows[0]?.wal_level;
  return level === 'logical'
    ? undefined
    : `the server has wal_level=${level}; streaming needs logical (ALTER SYSTEM SET wal_level = logical; then restart Postgres)`;
}

export async function proveConfig(file: string, databaseUrl: string, keys: readonly string[]): Promise<Proof> {
  let loaded;
  try {
    // Only DATABASE_URL from outside: the proof is about the file, not about this shell's variables.
    loaded = loadConfig({ path: file, env: { DATABASE_URL: databaseUrl } });
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems.length ? [...err.problems] : [err.message], warnings: [] };
    throw err;
  }
  const { config } = loaded;
  const crm = openSourcePool(config, { max: 2, application_name: 'carecycle-sync init', options: READ_ONLY_OPTIONS });
  try {
    const catalog = await readCatalog(crm, watchedTables(config));
    const capture = checkCaptureConfig(config, catalog);
    const problems = capture.filter((p) => p.severity === 'error').map(formatProblem);
    const warnings = capture.filter((p) => p.severity === 'warning').map(formatProblem);
    const wal = await walLevelNote(crm);
    if (wal) warnings.push(wal);
    for (const p of (await checkMapping(config, catalog, crm)).map(formatProblem)) if (!problems.includes(p)) problems.push(p);
    if (problems.length > 0) return { problems, warnings };
    return { problems, warnings, preview: tallyPreview(await assembleSample(config, crm, keys)) };
  } finally {
    await crm.end().catch(() => undefined);
  }
}
