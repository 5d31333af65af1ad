import { describe, it, expect } from 'vitest';
import { catalogOf, checkCaptureConfig, type ColumnInfo, type ReplicaIdentity, type TableInfo } from '../../src/pg/catalog.js';
import { validateConfig } from '../../src/config/load.js';

function table(ref: string, columns: string[], primaryKey: string[], replicaIdentity: ReplicaIdentity = 'default'): [string, TableInfo] {
  const [schema, name] = ref.split('.') as [string, string];
  const cols = new Map<string, ColumnInfo>(columns.map((c) => [c, { name: c, type: 'bigint', typeOid: 20, notNull: false }]));
  return [ref, { ref, exists: true, schema, name, oid: 1, columns: cols, primaryKey, replicaIdentity }];
}

const config = validateConfig({
  source: { url: 'postgres://localhost/crm' },
  customers: { table: 'customers', key: 'id' },
  policies: { table: 'policies', key: 'id', customerKey: 'customer_id' },
  watch: [{ table: 'customer_phones', customerKey: 'customer_id' }],
});

describe('checkCaptureConfig', () => {
  it('accepts the sample CRM, warning only that phone deletes cannot name their customer', () => {
    const catalog = catalogOf(
      new Map([
        table('public.customers', ['id', 'first_name'], ['id']),
        table('public.policies', ['id', 'customer_id'], ['id']),
        table('public.customer_phones', ['id', 'customer_id'], ['id']),
      ]),
    );
    const problems = checkCaptureConfig(config, catalog);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([['warning', 'watch[0].table']]);
    expect(problems[0]!.fix).toBe('ALTER TABLE "public"."customer_phones" REPLICA IDENTITY FULL;');
  });

  it('names each missing table and column by its config key, and suggests a near name', () => {
    const catalog = catalogOf(
      new Map([table('public.customers', ['ID'], ['ID']), table('public.policies', ['id', 'client_id'], ['id'], 'full')]),
    );
    const errors = checkCaptureConfig(config, catalog).filter((p) => p.severity === 'error');
    expect(errors.map((p) => p.path)).toEqual(['customers.key', 'policies.customerKey', 'watch[0].table']);
    expect(errors[0]!.message).toMatch(/column "id" does not exist in public\.customers \(did you mean "ID"\?\)/);
  });

  it('refuses a table that has no replica identity at all', () => {
    const catalog = catalogOf(
      new Map([
        table('public.customers', ['id'], ['id']),
        table('public.policies', ['id', 'customer_id'], ['id']),
        table('public.customer_phones', ['customer_id'], []),
      ]),
    );
    const errors = checkCaptureConfig(config, catalog).filter((p) => p.severity === 'error');
    expect(errors.map((p) => p.path)).toEqual(['watch[0].table']);
    expect(errors[0]!.message).toMatch(/CRM's own UPDATEs and DELETEs on it would fail/);
  });

  it('rejects a slot name Postgres would refuse', () => {
    const c = validateConfig({ ...config, source: { url: 'postgres://x/y', slot: 'CareCycle' } });
    const catalog = catalogOf(new Map([table('public.customers', ['id'], ['id'])]));
    expect(checkCaptureConfig({ ...c, policies: undefined, watch: [] }, catalog).map((p) => p.path)).toEqual(['source.slot']);
  });
});
