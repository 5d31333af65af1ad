import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';

describe('interpolate', () => {
  const env = { HOST: 'db.internal', EMPTY: '', RPM: '30', ON: 'true' };

  it('replaces ${VAR} inside strings and ${VAR:-default} when unset or empty', () => {
    const { value, unset } = interpolate(
      { url: 'postgres://${HOST}:5432/crm', a: '${MISSING:-fallback}', b: '${EMPTY:-used}', c: 'x-${HOST}-${MISSING:-d}' },
      env,
    );
    expect(value).toEqual({ url: 'postgres://db.internal:5432/crm', a: 'fallback', b: 'used', c: 'x-db.internal-d' });
    expect(unset.size).toBe(0);
  });

  it('drops a value that is only an unset ${VAR} and remembers the variable by key path', () => {
    const { value, unset } = interpolate({ source: { url: '${DATABASE_URL}', slot: 's' }, list: ['${NOPE}'] }, env);
    expect(value).toEqual({ source: { slot: 's' }, list: [undefined] });
    expect(unset.get('source.url')).toBe('DATABASE_URL');
    expect(unset.get('list.0')).toBe('NOPE');
  });

  it('types a value that is exactly one reference like YAML would (numbers, booleans)', () => {
    const { value } = interpolate({ rpm: '${RPM}', d: '${X:-60}', on: '${ON}', s: 'rpm ${RPM}', z: '${X:-007}' }, env);
    expect(value).toEqual({ rpm: 30, d: 60, on: true, s: 'rpm 30', z: '007' });
  });

  it('never re-interprets a substituted value as YAML or as another reference', () => {
    const { value } = interpolate({ v: '${A}' }, { A: '${HOST}\nkey: [1' });
    expect(value).toEqual({ v: '${HOST}\nkey: [1' });
  });
});
