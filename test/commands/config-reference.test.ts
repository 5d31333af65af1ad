import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { environmentRows, referenceRows, renderConfigReference } from '../../src/commands/config-reference.js';

describe('config reference (docs/config-reference.md)', () => {
  it('is current: the committed file equals what the schema renders (run `npm run docs:config`)', () => {
    const committed = readFileSync('docs/config-reference.md', 'utf8');
    expect(committed, 'docs/config-reference.md is out of date: run `npm run docs:config` and commit it').toBe(renderConfigReference());
  });

  it('documents every key of the schema, each with a description', () => {
    const rows = referenceRows();
    const undocumented = rows.filter((r) => r.description.trim() === '').map((r) => r.path);
    expect(undocumented).toEqual([]);
    for (const p of [
      'source.url',
      'source.slot',
      'state.schema',
      'carecycle.apiKey',
      'carecycle.requestsPerMinute',
      'customers.fields',
      'policies.customerKey',
      'watch[].customerKey',
      'server.port',
      'sync.onPolicyDelete',
    ]) {
      expect(rows.map((r) => r.path)).toContain(p);
    }
    expect(rows.find((r) => r.path === 'carecycle.requestsPerMinute')).toMatchObject({ default: 60, required: false });
    expect(rows.find((r) => r.path === 'customers.table')).toMatchObject({ required: true });
  });

  it('lists the environment overrides', () => {
    const vars = environmentRows(referenceRows()).map((e) => e.variable);
    expect(vars).toEqual(
      expect.arrayContaining([
        'DATABASE_URL',
        'STATE_DATABASE_URL',
        'CARECYCLE_API_KEY',
        'CARECYCLE_API_KEY_FILE',
        'CARECYCLE_BASE_URL',
        'LOG_LEVEL',
        'PORT',
      ]),
    );
  });
});
