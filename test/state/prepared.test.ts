import { describe, expect, it } from 'vitest';
import { hotQuery } from '../../src/state/prepared.js';
import { openStateDb } from '../../src/state/db.js';
import { validateConfig } from '../../src/config/load.js';

describe('hot queries as prepared statements', () => {
  it('names a text the same way every time, and two texts differently', () => {
    const a = hotQuery('SELECT 1', [], true);
    expect(a.name).toMatch(/^ccs_[0-9a-f]{20}$/);
    expect(hotQuery('SELECT 1', [1], true).name).toBe(a.name);
    expect(hotQuery('SELECT 2', [], true).name).not.toBe(a.name);
    expect(hotQuery('SELECT 1', [], false)).toEqual({ text: 'SELECT 1', values: [] });
  });

  it('prepares on the source database, not on a separate state.url (it may be a pooler)', async () => {
    const base = { source: { url: 'postgres://u@127.0.0.1:1/crm' }, customers: { table: 'customers' } };
    const same = openStateDb(validateConfig(base));
    const separate = openStateDb(validateConfig({ ...base, state: { url: 'postgres://u@127.0.0.1:2/state' } }));
    expect([same.prepared, separate.prepared]).toEqual([true, false]);
    await same.close();
    await separate.close();
  });
});
