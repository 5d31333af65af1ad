import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import { checkCaptureConfig, NO_REPLICA_IDENTITY, readCatalog, watchedTables } from '../../pg/catalog.js';
import { checkMapping } from '../../assemble/index.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/**
 * The config against the catalog: capture's checks (tables, key columns; src/pg/catalog.ts)
 * and the mapping's (fields, enum targets, where and sql expressions prepared against the
 * real tables; src/assemble/check.ts). The same checks `setup` and `run` apply at startup.
 */
export async function configChecks(client: pg.ClientBase, config: Config, canReadTables: boolean): Promise<CheckResult[]> {
  const catalog = await readCatalog(client, watchedTables(config));
  // Replica identity has its own doctor check (table-checks.ts); don't report it twice.
  const capture = checkCaptureConfig(config, catalog).filter((p) => p.code !== NO_REPLICA_IDENTITY);
  const out: CheckResult[] = capture.map((p) =>
    p.severity === 'error'
      ? fail(`config ${p.path}`, p.message, p.fix ?? `correct ${p.path} in the config file`)
      : warn(`config ${p.path}`, p.message, p.fix),
  );
  if (out.some((c) => !c.ok)) return out;
  if (!canReadTables) {
    return [...out, warn('config mapping', 'not checked: it needs SELECT on the mapped tables (see the grants above)')];
  }
  // capture's Catalog is structurally the assembler's MappingCatalog (same TableInfo).
  const mapping = await checkMapping(config, catalog, client);
  for (const m of mapping)
    out.push(fail(`config ${m.path}`, m.message, `correct ${m.path} in the config file (try carecycle-sync preview once it passes)`));
  if (out.every((c) => c.ok))
    out.push(pass('config vs catalog', 'every table, column, field and SQL expression of the config matches the database'));
  return out;
}
