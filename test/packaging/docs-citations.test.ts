import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

/**
 * The repository stands alone: comments, tests and the README cite the project's own docs/ (or
 * postgresql.org), never documents outside the repo or issue numbers, and every citation of a
 * docs/ page names a section, assumption or trap that page really has.
 */
const root = packageRoot();
const SCANNED = ['src', 'test', 'bench', 'scripts', 'sql', 'config', 'deploy', 'docs', 'README.md', '.ci', 'vitest.config.ts'];
const TEXT = /\.(ts|js|mjs|sql|ya?ml|md|json)$|^run$|^Dockerfile$/;

function files(path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((e) => (e === 'node_modules' ? [] : files(join(path, e))));
}
const sources = SCANNED.flatMap(files).filter((f) => TEXT.test(f.split('/').pop()!));
const read = (f: string) => readFileSync(join(root, f), 'utf8');

// Built from parts, so this file does not match itself.
const OUTSIDE = new RegExp(
  [
    '\\.\\./' + 'shared',
    'DESIGN(\\.md)? ?' + '§',
    'pitfalls' + '\\.md',
    '\\bissue ' + '[0-9]+\\b',
    'open ' + 'question',
    'STYLE' + '\\.md',
    '(^|[^/])reference/' + '[a-z-]+\\.md',
  ].join('|'),
);

describe('citations', () => {
  it('never send the reader to documents outside the repository or to issue numbers', () => {
    expect(sources).toEqual(expect.arrayContaining(['README.md', join('src', 'source', 'replication.ts')]));
    const hits = sources.flatMap((f) =>
      read(f)
        .split('\n')
        .flatMap((line, i) => (OUTSIDE.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it('of docs/ pages name sections, assumptions and traps those pages have', () => {
    const cite = /docs\/([a-z-]+\.md)(?:#[a-z0-9-]+)?(?:,? (?:"([^"]+)"|(A\d+)|traps? (\d+)))?/g;
    const problems: string[] = [];
    for (const f of sources) {
      for (const m of read(f).matchAll(cite)) {
        const [, page, quoted, assumption, trap] = m;
        // A section name may be wrapped onto the next comment line.
        const section = quoted?.replace(/\s*\n\s*(\*|\/\/|#|--)?\s*/g, ' ');
        const doc = join(root, 'docs', page!);
        if (!existsSync(doc)) {
          problems.push(`${f}: cites docs/${page}, which does not exist`);
          continue;
        }
        const text = readFileSync(doc, 'utf8');
        const headings = text
          .split('\n')
          .filter((l) => l.startsWith('#'))
          .map((l) => l.replace(/^#+\s*/, ''));
        if (section && !headings.some((h) => h.startsWith(section))) problems.push(`${f}: docs/${page} has no section "${section}"`);
        if (assumption && !text.includes(`| ${assumption} |`)) problems.push(`${f}: docs/${page} has no assumption ${assumption}`);
        if (trap && !headings.some((h) => h.startsWith(`${trap}. `))) problems.push(`${f}: docs/${page} has no trap ${trap}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
