import { describe, it, expect } from 'vitest';
import { bindRelation, buildRoutes, changeKeys, type RowChange, type TableRoute } from '../../src/source/changes.js';
import { validateConfig } from '../../src/config/load.js';

const config = validateConfig({
  source: { url: 'postgres://localhost/crm' },
  customers: { table: 'customers', key: 'id' },
  policies: { table: 'public.policies', key: 'id', customerKey: 'customer_id' },
  watch: [{ table: 'crm.phones', customerKey: 'cust' }],
});
const routes = buildRoutes(config);
const route = (t: string): TableRoute => routes.get(t)!;

function keysOf(r: TableRoute, change: RowChange) {
  const out = { customers: [] as string[], policies: [] as string[], unattributed: 0 };
  changeKeys(r, change, {
    customer: (k) => out.customers.push(k),
    policy: (k) => out.policies.push(k),
    unattributed: () => out.unattributed++,
  });
  return out;
}

describe('buildRoutes / bindRelation', () => {
  it('marks a side table whose updates cannot name the previous customer', () => {
    const phones = (replicaIdentity: 'default' | 'full', keyColumns: string[]) =>
      bindRelation(routes, { schema: 'crm', name: 'phones', columns: [{ name: 'id' }, { name: 'cust' }], replicaIdentity, keyColumns });
    expect(phones('default', ['id'])).toMatchObject({ movesUnseen: true });
    expect(phones('full', ['id', 'cust'])).not.toHaveProperty('movesUnseen');
    expect(phones('default', ['cust', 'id'])).not.toHaveProperty('movesUnseen');
    // Policies are resolved through what was sent for them instead.
    expect(
      bindRelation(routes, {
        schema: 'public',
        name: 'policies',
        columns: [{ name: 'id' }, { name: 'customer_id' }],
        replicaIdentity: 'default',
        keyColumns: ['id'],
      }),
    ).not.toHaveProperty('movesUnseen');
  });

  it('routes by schema-qualified name; unqualified means public', () => {
    expect([...routes.keys()]).toEqual(['public.customers', 'public.policies', 'crm.phones']);
  });
  it('ignores unwatched tables and copes with added or renamed other columns', () => {
    expect(bindRelation(routes, { schema: 'public', name: 'other', columns: [] })).toEqual({ route: null });
    const b = bindRelation(routes, {
      schema: 'public',
      name: 'customers',
      columns: [{ name: 'id' }, { name: 'renamed_notes' }, { name: 'added' }],
    });
    expect(b.route?.role).toBe('customers');
  });
  it('reports a configured column that disappeared, naming the config key, and keeps the table routed', () => {
    const b = bindRelation(routes, { schema: 'public', name: 'policies', columns: [{ name: 'id' }, { name: 'client_id' }] });
    expect(b.route?.role).toBe('policies');
    expect('keyLost' in b && b.keyLost).toMatchObject({
      path: 'policies.customerKey',
      byPolicyKey: true,
      message: expect.stringMatching(/^policies\.customerKey: column public\.policies\.customer_id no longer exists/),
    });
    const c = bindRelation(routes, { schema: 'public', name: 'customers', columns: [{ name: 'client_no' }] });
    expect('keyLost' in c && c.keyLost).toMatchObject({ path: 'customers.key', byPolicyKey: false });
  });
});

describe('changeKeys', () => {
  it('customer rows give their own key, as the text Postgres sent', () => {
    expect(keysOf(route('public.customers'), { tag: 'insert', new: { id: '9007199254740993' } }).customers).toEqual(['9007199254740993']);
    expect(keysOf(route('public.customers'), { tag: 'delete', key: { id: '7' } }).customers).toEqual(['7']);
  });
  it('a customer key change touches old and new', () => {
    expect(keysOf(route('public.customers'), { tag: 'update', key: { id: '1' }, new: { id: '2' } }).customers).toEqual(['2', '1']);
  });
  it('policy insert gives its customer; update without old image also resolves the policy (it may have moved)', () => {
    expect(keysOf(route('public.policies'), { tag: 'insert', new: { id: '10', customer_id: '1' } })).toEqual({
      customers: ['1'],
      policies: [],
      unattributed: 0,
    });
    expect(keysOf(route('public.policies'), { tag: 'update', new: { id: '10', customer_id: '3' } })).toEqual({
      customers: ['3'],
      policies: ['10'],
      unattributed: 0,
    });
  });
  it('policy update with a full old image uses it directly (old and new customer)', () => {
    expect(
      keysOf(route('public.policies'), { tag: 'update', old: { id: '10', customer_id: '1' }, new: { id: '10', customer_id: '3' } }),
    ).toEqual({ customers: ['3', '1'], policies: [], unattributed: 0 });
    expect(
      keysOf(route('public.policies'), { tag: 'update', old: { id: '10', customer_id: '3' }, new: { id: '10', customer_id: '3' } })
        .customers,
    ).toEqual(['3']);
  });
  it('policy delete with only the key resolves through sent_policies; with a full image uses it', () => {
    expect(keysOf(route('public.policies'), { tag: 'delete', key: { id: '11' } })).toEqual({
      customers: [],
      policies: ['11'],
      unattributed: 0,
    });
    expect(keysOf(route('public.policies'), { tag: 'delete', old: { id: '11', customer_id: '2' } })).toEqual({
      customers: ['2'],
      policies: [],
      unattributed: 0,
    });
  });
  it('a policy whose primary key changed resolves the OLD policy key', () => {
    expect(keysOf(route('public.policies'), { tag: 'update', key: { id: '10' }, new: { id: '99', customer_id: '3' } }).policies).toEqual([
      '10',
    ]);
  });
  it('watch rows give their customer-key column; a delete without it is unattributed', () => {
    expect(keysOf(route('crm.phones'), { tag: 'insert', new: { id: '1', cust: '4' } }).customers).toEqual(['4']);
    expect(keysOf(route('crm.phones'), { tag: 'update', old: { id: '1', cust: '4' }, new: { id: '1', cust: '5' } }).customers).toEqual([
      '5',
      '4',
    ]);
    expect(keysOf(route('crm.phones'), { tag: 'delete', key: { id: '1' } })).toEqual({ customers: [], policies: [], unattributed: 1 });
  });
  it('a NULL customer key touches nobody', () => {
    expect(keysOf(route('crm.phones'), { tag: 'insert', new: { id: '1', cust: null } }).customers).toEqual([]);
  });
});
