import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

/**
 * src/queue/ owns every statement on pending, sent and sent_policies (docs/state-tables.md,
 * "Who writes the SQL"): SQL naming those tables appears in no other source file.
 */
const root = packageRoot();
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

// A table name after an SQL keyword, optionally schema-qualified (`${s}.pending`, "x".sent).
const STATEMENT = /\b(FROM|INTO|UPDATE|JOIN|USING)\s+(\S+\.)?"?(pending|sent|sent_policies)\b/;

describe('queue/ owns the queue tables', () => {
  it('no file outside src/queue/ writes SQL on pending, sent or sent_policies', () => {
    const outside = files(src).filter((f) => !relative(src, f).startsWith(`queue/`));
    expect(outside.length).toBeGreaterThan(50);
    const hits = outside.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ at: `${relative(root, f)}:${i + 1}`, line }))
        .filter(({ line }) => STATEMENT.test(line)),
    );
    expect(hits).toEqual([]);
  });

  it('the pattern finds such SQL', () => {
    expect(STATEMENT.test('INSERT INTO ${s}.pending AS pending (customer_key)')).toBe(true);
    expect(STATEMENT.test('SELECT 1 FROM sent_policies s')).toBe(true);
    expect(STATEMENT.test('Records not sent, by reason')).toBe(false);
  });
});
