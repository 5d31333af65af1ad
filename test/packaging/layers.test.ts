import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The dependency direction of src/, written down once (docs/architecture.md, "Layers"): a
 * top-level folder (or top-level file, named without `.ts`) may import only folders of a LOWER
 * layer. Folders of one layer are peers and do not import each other, so no two top-level
 * folders can import each other, directly or in a circle.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['lib', 'errors', 'log', 'paths'],
  ['carecycle'],
  ['config'],
  ['pg'],
  ['state'],
  ['queue'],
  ['source', 'assemble'],
  ['backfill', 'deliver'],
  ['observe'],
  ['commands'],
  ['daemon'],
  ['init', 'demo'],
  ['cli'],
];

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `source` for src/source/capture.ts, `errors` for src/errors.ts; undefined outside src/. */
function topOf(path: string): string | undefined {
  const rel = relative(src, path);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0]!.replace(/\.[jt]s$/, '');
}

interface Import {
  file: string;
  line: number;
  specifier: string;
  from: string;
  to: string;
}

/** Every relative import of a file that crosses top-level folders: static, `export … from`, `import()`. */
function crossImports(file: string, text: string): Import[] {
  const from = topOf(file)!;
  return ts.preProcessFile(text, true, true).importedFiles.flatMap((f) => {
    if (!f.fileName.startsWith('.')) return [];
    const to = topOf(resolve(dirname(file), f.fileName));
    if (to === undefined || to === from) return [];
    const line = text.slice(0, f.pos).split('\n').length;
    return [{ file: relative(root, file), line, specifier: f.fileName, from, to }];
  });
}

/** What breaks the direction: imports of a folder of the same or a higher layer, or of an unknown one. */
function violations(imports: readonly Import[], layers = LAYERS): string[] {
  const layerOf = new Map(layers.flatMap((names, i) => names.map((n) => [n, i] as const)));
  return imports.flatMap((i) => {
    const a = layerOf.get(i.from);
    const b = layerOf.get(i.to);
    if (a === undefined) return [`${i.file}: src/${i.from} is in no layer (add it to LAYERS in test/packaging/layers.test.ts)`];
    if (b === undefined) return [`${i.file}:${i.line}: imports '${i.specifier}': src/${i.to} is in no layer`];
    if (b < a) return [];
    const how = b === a ? 'a peer of the same layer' : 'a higher layer';
    return [`${i.file}:${i.line}: imports '${i.specifier}': ${i.from}/ may not import ${i.to}/ (${how})`];
  });
}

describe('layers', () => {
  const imports = tsFiles(src).flatMap((f) => crossImports(f, readFileSync(f, 'utf8')));

  it('every top-level folder of src/ is in exactly one layer', () => {
    const tops = new Set(tsFiles(src).map((f) => topOf(f)!));
    const listed = LAYERS.flat();
    expect([...tops].filter((t) => !listed.includes(t))).toEqual([]);
    expect(listed.length).toBe(new Set(listed).size);
  });

  it('no folder imports a folder of its own or a higher layer', () => {
    expect(violations(imports)).toEqual([]);
  });

  it('sees static, re-exporting and dynamic imports, and names file, line and import', () => {
    const file = join(src, 'pg', 'x.ts');
    const text = [
      "import type { Config } from '../config/schema.js';",
      "export { scrub } from '../log/secrets.js';",
      '// a comment naming ../daemon/daemon.js is no import',
      "const d = await import('../daemon/daemon.js');",
      "import { createMetrics } from '../observe/metrics.js';",
    ].join('\n');
    expect(violations(crossImports(file, text))).toEqual([
      "src/pg/x.ts:4: imports '../daemon/daemon.js': pg/ may not import daemon/ (a higher layer)",
      "src/pg/x.ts:5: imports '../observe/metrics.js': pg/ may not import observe/ (a higher layer)",
    ]);
  });

  it('fails on a cycle between two folders, whichever order the layers put them in', () => {
    const cycle: Import[] = [
      { file: 'src/a/x.ts', line: 1, specifier: '../b/y.js', from: 'a', to: 'b' },
      { file: 'src/b/y.ts', line: 1, specifier: '../a/x.js', from: 'b', to: 'a' },
    ];
    expect(violations(cycle, [['a'], ['b']])).toHaveLength(1);
    expect(violations(cycle, [['b'], ['a']])).toHaveLength(1);
    expect(violations(cycle, [['a', 'b']])).toHaveLength(2);
  });
});
