import type { Config } from '../../config/schema.js';
import { lacksReplicaIdentity, replicaIdentityFix, replicaIdentityOf } from '../../pg/catalog.js';
import { plainIdent, quoteIdent } from '../../pg/names.js';
import type { PublicationFacts, SourceFacts, TableFacts } from './facts.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/** Table-level checks: SELECT grants, replica identity, and the publication's coverage. */

const quoted = (name: string) => name.split('.').map(quoteIdent).join('.');
/** What setup publishes; truncate is included so a TRUNCATE shows up in the logs. */
const PUBLISH = 'insert, update, delete, truncate';

export function checkSelectGrants(f: SourceFacts): CheckResult[] {
  // Missing tables are reported by the config check, with the config key to fix.
  return f.tables
    .filter((t) => t.exists)
    .map((t) =>
      t.canSelect
        ? pass(`SELECT on ${t.name}`, `granted to ${f.user}`)
        : fail(
            `SELECT on ${t.name}`,
            `role ${f.user} cannot read ${t.name} (${t.role}); records are assembled from the current rows`,
            `GRANT SELECT ON ${quoted(t.name)} TO ${plainIdent(f.user)};`,
          ),
    );
}

/**
 * DEFAULT (the primary key) is all we need: records are re-read from the current row, so old
 * row images and unchanged TOAST values do not matter (docs/replication.md, trap 9). What breaks is a
 * table with no identity at all: once published, Postgres refuses the CRM's own UPDATE and
 * DELETE on it ("cannot update table ... does not have a replica identity").
 */
export function checkReplicaIdentity(t: TableFacts): CheckResult | undefined {
  if (!t.exists) return undefined;
  const name = `replica identity of ${t.name}`;
  const identity = replicaIdentityOf(t.replicaIdentity);
  if (lacksReplicaIdentity(identity, t.hasPrimaryKey)) {
    const why =
      identity === 'nothing'
        ? 'NOTHING: once published, UPDATE and DELETE on this table fail in the CRM, and deletes carry no key'
        : 'DEFAULT without a primary key means no identity: once published, UPDATE and DELETE on this table fail in the CRM';
    return fail(name, why, replicaIdentityFix(t.name));
  }
  switch (identity) {
    case 'default':
      return pass(name, 'DEFAULT (primary key): fine, records are re-read from the current row');
    case 'full':
      return pass(name, 'FULL: every change carries the whole old row (more WAL than needed, but correct)');
    case 'index':
      return pass(name, 'USING INDEX: fine, records are re-read from the current row');
    default:
      return undefined;
  }
}

export function checkPublication(f: SourceFacts, config: Config): CheckResult[] {
  const pubName = config.source.publication;
  const name = `publication ${pubName}`;
  const existing = f.tables.filter((t) => t.exists);
  const p = f.publication;
  if (!p) {
    const create = `CREATE PUBLICATION ${quoteIdent(pubName)} FOR TABLE ${existing.map((t) => quoted(t.name)).join(', ')} WITH (publish = '${PUBLISH}');`;
    return [fail(name, 'does not exist', `carecycle-sync setup   -- or, as the tables' owner: ${create}`)];
  }
  const out: CheckResult[] = [];
  const missingOps = (['insert', 'update', 'delete'] as const).filter((op) => !p[op]);
  out.push(
    missingOps.length === 0
      ? pass(name, `exists (owner ${p.owner}), publishes insert, update, delete`)
      : fail(
          name,
          `does not publish ${missingOps.join(', ')}: those changes never reach the daemon`,
          `ALTER PUBLICATION ${quoteIdent(pubName)} SET (publish = '${PUBLISH}');  -- as its owner (${p.owner})`,
        ),
  );
  out.push(...existing.map((t) => checkCoverage(p, t)));
  if (existing.some((t) => t.kind === 'p') && !p.viaRoot) {
    out.push(
      fail(
        `${name}: partitions`,
        'a mapped table is partitioned and the publication sends changes under each partition name, which the daemon does not map',
        `ALTER PUBLICATION ${quoteIdent(pubName)} SET (publish_via_partition_root = true);`,
      ),
    );
  }
  return out;
}

function checkCoverage(p: PublicationFacts, t: TableFacts): CheckResult {
  const name = `publication ${p.name} covers ${t.name}`;
  const entry = p.tables.find((x) => x.name === t.name);
  if (!entry) {
    return fail(
      name,
      `changes to ${t.name} (${t.role}) are not published`,
      `ALTER PUBLICATION ${quoteIdent(p.name)} ADD TABLE ${quoted(t.name)};  -- or carecycle-sync setup`,
    );
  }
  const reset = `ALTER PUBLICATION ${quoteIdent(p.name)} SET TABLE ...;  -- list the tables without WHERE or column lists, or run carecycle-sync setup`;
  if (entry.rowFilter) {
    return fail(
      name,
      `published with a row filter (WHERE ${entry.rowFilter}): changes outside it never arrive; use customers.where/policies.where in the config instead`,
      reset,
    );
  }
  const missingCols = entry.columns ? t.keyColumns.filter((c) => !entry.columns!.includes(c)) : [];
  if (missingCols.length > 0) {
    return fail(
      name,
      `published with a column list that leaves out ${missingCols.join(', ')}, which the daemon reads from each change`,
      reset,
    );
  }
  if (entry.columns)
    return warn(name, `published with a column list (${entry.columns.join(', ')}); fine, records are re-read from the table`);
  return pass(name, p.allTables ? 'FOR ALL TABLES' : 'yes');
}

export function tableChecks(f: SourceFacts, config: Config): CheckResult[] {
  return [
    ...checkSelectGrants(f),
    ...f.tables.map(checkReplicaIdentity).filter((c): c is CheckResult => c !== undefined),
    ...checkPublication(f, config),
  ];
}
