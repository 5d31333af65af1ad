import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ccs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (yaml: string) => {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, yaml);
  return p;
};
const base = (sync: string) => `source: { url: "postgres://h/crm" }\ncustomers: { table: customers }\nsync:\n${sync}\n`;
const env = {};

describe('sync keys of the data rules', () => {
  it('defaults: clear nulls, UTC, policy dates like dateOfBirth, dead-letter refused values, exact maps', () => {
    const { config } = loadConfig({ path: file(`source: { url: "postgres://h/crm" }\ncustomers: { table: customers }\n`), env });
    expect(config.sync).toMatchObject({
      nullValues: 'clear',
      timeZone: 'UTC',
      onInvalidOptional: 'dead-letter',
      mapMatching: 'exact',
      dateFormat: 'MM-DD-YYYY',
    });
    expect(config.sync.policyDateFormat).toBeUndefined();
    const partial = loadConfig({ path: file(base('  batchSize: 50')), env }).config.sync;
    expect(partial).toMatchObject({ nullValues: 'clear', timeZone: 'UTC', onInvalidOptional: 'dead-letter', mapMatching: 'exact' });
  });

  it('accepts the documented values', () => {
    const { config } = loadConfig({
      path: file(
        base(
          '  nullValues: omit\n  timeZone: America/Los_Angeles\n  policyDateFormat: YYYY-MM-DD\n  onInvalidOptional: omit\n  mapMatching: relaxed',
        ),
      ),
      env,
    });
    expect(config.sync).toMatchObject({
      nullValues: 'omit',
      timeZone: 'America/Los_Angeles',
      policyDateFormat: 'YYYY-MM-DD',
      onInvalidOptional: 'omit',
      mapMatching: 'relaxed',
    });
  });

  it('names the key path of each bad value (exit 2)', () => {
    const path = file(
      base(
        '  nullValues: erase\n  timeZone: Mars/Olympus\n  policyDateFormat: DD.MM.YYYY\n  onInvalidOptional: skip\n  mapMatching: fuzzy',
      ),
    );
    let problems: readonly string[] = [];
    try {
      loadConfig({ path, env });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      problems = (err as ConfigError).problems;
    }
    for (const key of ['sync.nullValues', 'sync.timeZone', 'sync.policyDateFormat', 'sync.onInvalidOptional', 'sync.mapMatching']) {
      expect(
        problems.some((p) => p.includes(`${key}:`)),
        `${key} in ${problems.join('\n')}`,
      ).toBe(true);
    }
    expect(problems.find((p) => p.includes('sync.timeZone'))).toContain('an IANA time zone name');
  });
});
