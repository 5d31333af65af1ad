import { describe, expect, it } from 'vitest';
import { copiedMode, mirrorAction, mirroredLinkTarget } from '../../src/demo/reachable-binaries.js';

const DIR = 0o040000;
const FILE = 0o100000;
const LINK = 0o120000;

describe('mirroring server binaries for the postgres user', () => {
  it('hard-links only files everyone can already use, and copies the rest', () => {
    expect(mirrorAction(DIR | 0o700)).toBe('mkdir');
    expect(mirrorAction(LINK | 0o777)).toBe('symlink');
    expect(mirrorAction(FILE | 0o644)).toBe('link');
    expect(mirrorAction(FILE | 0o755)).toBe('link');
    // private to the owner (umask 077), or executable by the owner only: a link would share the unusable mode
    expect(mirrorAction(FILE | 0o600)).toBe('copy');
    expect(mirrorAction(FILE | 0o700)).toBe('copy');
    expect(mirrorAction(FILE | 0o744)).toBe('copy');
  });

  it('gives copies a mode the postgres user can read, and execute when the owner could', () => {
    expect(copiedMode(FILE | 0o700)).toBe(0o755);
    expect(copiedMode(FILE | 0o600)).toBe(0o644);
    expect(copiedMode(FILE | 0o400)).toBe(0o644);
  });

  it('keeps relative symlinks and rebases absolute ones that point into the original tree', () => {
    expect(mirroredLinkTarget('libpq.so.5.18', '/root/c/native', '/tmp/p/pg')).toBe('libpq.so.5.18');
    expect(mirroredLinkTarget('/root/c/native/lib/libpq.so.5.18', '/root/c/native', '/tmp/p/pg')).toBe('/tmp/p/pg/lib/libpq.so.5.18');
    expect(mirroredLinkTarget('/usr/lib/x86_64-linux-gnu/libz.so.1', '/root/c/native', '/tmp/p/pg')).toBe(
      '/usr/lib/x86_64-linux-gnu/libz.so.1',
    );
    expect(mirroredLinkTarget('/root/c/native-other/x', '/root/c/native', '/tmp/p/pg')).toBe('/root/c/native-other/x');
  });
});
