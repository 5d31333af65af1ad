import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { ConfigError, formatProblem } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import type { MappingCatalog } from './catalog.js';
import { loadMappingPlan } from './check.js';
import { resolveMapping, type MappingPlan } from './mapping.js';
import { CUSTOMER_ALIAS, KEY_ALIAS, customerQuery, policyQuery, policyWhereaboutsQuery } from './query.js';
import { decide, type AssembleResult } from './decide.js';
import type { Issue, Row } from './build.js';
import { onConnection } from '../pg/sqlstate.js';
import { sentStateReader, type SentState, type SentStateReader } from './sent-state.js';

/**
 * Stage 3 of the pipeline (docs/architecture.md, "Assemble"): customer keys in, one verdict per key
 * out. Reads the
 * *current* rows (so replica identity, TOAST and change order do not matter), two or three
 * queries per batch whatever its size, and leaves every decision to ./decide.ts.
 */
export interface Assembler {
  readonly plan: MappingPlan;
  /** One result per distinct key, in the order given. */
  assemble(keys: readonly string[]): Promise<AssembleResult[]>;
}

export interface AssemblerOptions {
  config: Config;
  /** The agency's CRM (source database). */
  crm: pg.Pool;
  /** State store, or any reader of the remembered sends (preview before setup: `nothingSent`). */
  state: StateDb | SentStateReader;
  /** Catalog of the mapped tables; or pass `plan` already checked by loadMappingPlan. */
  catalog?: MappingCatalog;
  plan?: MappingPlan;
  log?: Logger;
  /** Called with the fields left out of a record under sync.onInvalidOptional: omit (metrics). */
  onOmitted?: (omitted: readonly Issue[]) => void;
}

const isReader = (s: StateDb | SentStateReader): s is SentStateReader => typeof (s as SentStateReader).read === 'function';

function planOf(opts: AssemblerOptions): MappingPlan {
  if (opts.plan) return opts.plan;
  if (!opts.catalog) throw new Error('createAssembler: pass `catalog` or `plan`');
  const { plan, problems } = resolveMapping(opts.config, opts.catalog);
  if (!plan || problems.length)
    throw new ConfigError(`the mapping does not match the database (${problems.length} problems)`, problems.map(formatProblem));
  return plan;
}

/** Builds an assembler; the static mapping checks run here (ConfigError on a wrong name). */
export function createAssembler(opts: AssemblerOptions): Assembler {
  const plan = planOf(opts);
  const reader = isReader(opts.state) ? opts.state : sentStateReader(opts.state);
  const sync = opts.config.sync;
  const settings = {
    plan,
    onCustomerDelete: sync.onCustomerDelete,
    onPolicyDelete: sync.onPolicyDelete,
    nullValues: sync.nullValues,
    onInvalidOptional: sync.onInvalidOptional,
  };
  const log = opts.log;
  // Prepared: the CRM is the source database, a direct connection (see ../state/prepared.ts).
  const customerSql = customerQuery(plan.customers);
  const policySql = plan.policies ? policyQuery(plan.policies) : undefined;

  async function readRows(keys: string[]) {
    const customers = new Map<string, Row>();
    for (const r of (await onConnection('source', opts.crm.query<Row>(hotQuery(customerSql, [keys], true)))).rows)
      customers.set(r[KEY_ALIAS]!, r);
    const policies = new Map<string, Row[]>();
    const present = [...customers.keys()];
    if (plan.policies && present.length > 0) {
      for (const r of (await onConnection('source', opts.crm.query<Row>(hotQuery(policySql!, [present], true)))).rows) {
        const k = r[CUSTOMER_ALIAS]!;
        const list = policies.get(k);
        if (list) list.push(r);
        else policies.set(k, [r]);
      }
    }
    return { customers, policies };
  }

  /** Remembered policies missing from their customer's current rows but alive elsewhere. */
  async function movedPolicies(sent: Map<string, SentState>, policies: Map<string, Row[]>): Promise<Set<string>> {
    if (!plan.policies || (opts.config.sync.onPolicyDelete === 'ignore' && opts.config.sync.onCustomerDelete === 'ignore'))
      return new Set();
    const missing = new Map<string, string>();
    for (const [k, s] of sent) {
      const current = new Set((policies.get(k) ?? []).map((r) => r[KEY_ALIAS]));
      for (const p of s.policies) if (!current.has(p.policyKey)) missing.set(p.policyKey, k);
    }
    if (missing.size === 0) return new Set();
    const rows = (await onConnection('source', opts.crm.query<Row>(policyWhereaboutsQuery(plan.policies), [[...missing.keys()]]))).rows;
    // Moved means alive under *another* customer: the policies of a deleted customer still point
    // at its key (no row is read for it), and must be cancelled, not taken for moved.
    return new Set(rows.filter((r) => r[CUSTOMER_ALIAS] !== missing.get(r[KEY_ALIAS]!)).map((r) => r[KEY_ALIAS]!));
  }

  return {
    plan,
    async assemble(input) {
      const keys = [...new Set(input)];
      if (keys.length === 0) return [];
      const { customers, policies } = await readRows(keys);
      const sent = await reader.read(keys);
      const moved = await movedPolicies(sent, policies);
      return keys.map((key) => {
        const result = decide({ key, row: customers.get(key), policyRows: policies.get(key) ?? [], sent: sent.get(key), moved }, settings);
        if (result.verdict === 'deleted')
          log?.info({ key, action: result.deleteAction, records: result.records.length }, 'customer deleted or outside customers.where');
        else if (result.verdict === 'invalid') log?.debug({ key, issues: result.issues }, 'record invalid');
        if (result.omitted) {
          log?.warn(
            { key, omitted: result.omitted },
            'fields left out of the record because their values were refused (sync.onInvalidOptional: omit)',
          );
          opts.onOmitted?.(result.omitted);
        }
        return result;
      });
    },
  };
}

/** The daemon's path: the full startup check (names and SQL) and then the assembler. */
export async function prepareAssembler(opts: AssemblerOptions & { catalog: MappingCatalog; file?: string }): Promise<Assembler> {
  const plan = await loadMappingPlan(opts.config, opts.catalog, opts.crm, opts.file);
  return createAssembler({ ...opts, plan });
}
