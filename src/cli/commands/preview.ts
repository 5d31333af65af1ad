import type { Command } from 'commander';
import type pg from 'pg';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { UsageError } from '../../errors.js';
import { openStateDb, type StateDb } from '../../state/db.js';
import { readCatalog } from '../../pg/catalog.js';
import { createAssembler, loadMappingPlan, mappedTables, nothingSent, sentStateReader, type MappingPlan } from '../../assemble/index.js';
import { firstCustomersQuery, KEY_ALIAS } from '../../assemble/query.js';
import { previewJson, renderPreview } from '../../assemble/preview.js';
import { openSourcePool } from '../../pg/pool.js';

interface PreviewOptions extends GlobalOptions {
  limit?: string;
  key?: string[];
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  withConfigOption(
    program
      .command('preview')
      .description("assemble customers as they would be sent, print the JSON and each record's verdict; sends nothing, needs no API key")
      .option('-n, --limit <n>', 'the first N customers in key order (inside customers.where); default 5')
      .option('-k, --key <key>', 'a customer key (repeat for several)', collect)
      .option('--json', 'machine-readable output'),
  ).action(action((opts: PreviewOptions) => preview(opts)));
}

function parseLimit(opts: PreviewOptions): number {
  if (opts.limit !== undefined && opts.key?.length) throw new UsageError('preview: give either --limit or --key, not both');
  const n = Number(opts.limit ?? 5);
  if (!Number.isInteger(n) || n < 1 || n > 10000)
    throw new UsageError(`preview: --limit must be a whole number from 1 to 10000, found ${JSON.stringify(opts.limit)}`);
  return n;
}

/** The state store when `setup` has created it; otherwise preview treats everything as never sent. */
async function stateIfSetUp(state: StateDb): Promise<boolean> {
  const { rows } = await state.pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`"${state.schema}".sent`]);
  return rows[0]?.t != null;
}

async function keysToPreview(crm: pg.Pool, plan: MappingPlan, opts: PreviewOptions, limit: number): Promise<string[]> {
  if (opts.key?.length) return opts.key;
  const { rows } = await crm.query<Record<string, string>>(firstCustomersQuery(plan.customers), [limit]);
  return rows.map((r) => r[KEY_ALIAS]!);
}

async function preview(opts: PreviewOptions): Promise<number> {
  const limit = parseLimit(opts);
  const { config, path, log } = loadContext(opts);
  const crm = openSourcePool(config, { max: 2, application_name: 'carecycle-sync preview' });
  const state = openStateDb(config, { max: 1, applicationName: 'carecycle-sync preview' });
  try {
    const catalog = await readCatalog(crm, mappedTables(config));
    const plan = await loadMappingPlan(config, catalog, crm, path);
    const setUp = await stateIfSetUp(state);
    const assembler = createAssembler({ config, crm, plan, state: setUp ? sentStateReader(state) : nothingSent, log });
    const keys = await keysToPreview(crm, plan, opts, limit);
    const results = await assembler.assemble(keys).catch((err: unknown) => {
      // 22P02 invalid_text_representation: a --key that is not a value of the key's type.
      if ((err as pg.DatabaseError).code === '22P02') {
        throw new UsageError(
          `preview: a --key is not a valid ${plan.customers.section}.key (${plan.customers.key}, ${plan.customers.keyType}): ${(err as Error).message}`,
        );
      }
      throw err;
    });
    const note = setUp ? undefined : `the state schema "${state.schema}" is not set up (run setup): nothing counts as sent before`;
    process.stdout.write(
      opts.json ? JSON.stringify({ ...previewJson(results), ...(note ? { note } : {}) }, null, 2) + '\n' : renderPreview(results, note),
    );
    return 0;
  } finally {
    await state.close();
    await crm.end().catch(() => undefined);
  }
}
