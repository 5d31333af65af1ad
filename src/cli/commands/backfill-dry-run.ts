import type { Config } from '../../config/schema.js';
import { openSourcePool } from '../../pg/pool.js';
import type { Logger } from '../../log/logger.js';
import { openStateDb } from '../../state/db.js';
import { readCatalog } from '../../pg/catalog.js';
import { formatCount, formatDuration } from '../../lib/units.js';
import { loadMappingPlan, mappedTables, nothingSent, sentStateReader } from '../../assemble/index.js';
import { dryRunBackfill, type DryRunReport } from '../../backfill/dry-run.js';
import { readMappingDoc, type MappingDoc } from '../../backfill/reconcile.js';

/** `backfill --dry-run [--where SQL] [--json]`: assembles, counts, prints; sends and writes nothing. */
export async function backfillDryRun(o: { config: Config; path: string; log: Logger; where?: string; json?: boolean }): Promise<number> {
  const { config } = o;
  const crm = openSourcePool(config, { max: 2, application_name: 'carecycle-sync backfill --dry-run' });
  const state = openStateDb(config, { max: 1, applicationName: 'carecycle-sync backfill --dry-run' });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const plan = await loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm, o.path);
    // Before `setup` there is no state: everything counts as never sent.
    const setUp =
      (await state.pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`"${state.schema}".sent`])).rows[0]?.t != null;
    const stored = setUp ? await readMappingDoc(state.pool) : undefined;
    const report = await dryRunBackfill({
      config,
      crm,
      plan,
      previousPlan: stored?.plan,
      sent: setUp ? sentStateReader(state) : nothingSent,
      where: o.where ?? null,
      signal: abort.signal,
      log: o.log,
    });
    const out = o.json
      ? JSON.stringify({ ...jsonOf(report), ...(abort.signal.aborted ? { interrupted: true } : {}) }, null, 2)
      : renderDryRun(report, { config, where: o.where, stored, interrupted: abort.signal.aborted });
    process.stdout.write(`${out}\n`);
    return abort.signal.aborted ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    await crm.end().catch(() => undefined);
    await state.close();
  }
}

function jsonOf(r: DryRunReport & { previousUsable: boolean }) {
  const { customers, changed, unchanged, invalid, fields, records, etaMs, examples, invalidExamples } = r;
  return {
    customers,
    changed,
    unchanged,
    invalid,
    fields,
    records,
    etaSeconds: Math.ceil(etaMs / 1000),
    examples,
    invalidExamples,
    sent: false,
  };
}

const show = (v: unknown) => (v === undefined ? '(not sent)' : JSON.stringify(v));

/** The human-readable report. Pure. */
export function renderDryRun(
  r: DryRunReport & { previousUsable: boolean },
  o: { config: Config; where?: string; stored?: MappingDoc; interrupted?: boolean },
): string {
  const scope = o.where ? ` matching ${o.where}` : '';
  const lines = [
    `Dry run over ${formatCount(r.customers)} customers${scope}${o.interrupted ? ' (interrupted)' : ''}: nothing was sent or written.`,
    `  would change  ${formatCount(r.changed)}  (${formatCount(r.records)} records)`,
    `  unchanged     ${formatCount(r.unchanged)}`,
    `  invalid       ${formatCount(r.invalid)}${r.invalid ? '  (would go to dead letters)' : ''}`,
  ];
  const fields = Object.entries(r.fields).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (fields.length) {
    lines.push('', 'Fields that change (customers):');
    const width = Math.max(...fields.map(([f]) => f.length));
    for (const [f, n] of fields) lines.push(`  ${f.padEnd(width)}  ${formatCount(n)}`);
  }
  if (r.examples.length) {
    lines.push('', 'Examples:');
    for (const e of r.examples) {
      lines.push(`  customer ${e.key}:`);
      for (const c of e.changes)
        lines.push(c.path.startsWith('(') ? `    ${c.path}` : `    ${c.path}: ${show(c.before)} → ${show(c.after)}`);
    }
  }
  for (const i of r.invalidExamples) lines.push(`  invalid: customer ${i.key} at ${i.path || '(record)'}: ${i.reason}`);
  const { requestsPerMinute: rpm } = o.config.carecycle;
  lines.push('', `Sending them would take about ${formatDuration(r.etaMs)} at ${rpm} requests/min × ${o.config.sync.batchSize} records.`);
  lines.push(
    o.stored
      ? `Fields compared with the mapping \`run\` last started with (stored ${o.stored.storedAt})${r.previousUsable ? '' : ', which no longer matches the database: fields not compared'}.`
      : 'No mapping stored by `run` yet: which fields change is not known, only whether records do.',
  );
  return lines.join('\n');
}
