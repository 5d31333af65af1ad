import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Temp directories of a test run live under one parent, CARECYCLE_TEST_TMP, made by
 * vitest.config.ts in the main process and removed when that process exits (test workers may be
 * ended without running exit handlers): a run leaves nothing in /tmp.
 */
export function createRunTempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'ccs-test-run-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  return root;
}

export function testTempDir(prefix: string): string {
  const root = process.env.CARECYCLE_TEST_TMP ?? tmpdir();
  mkdirSync(root, { recursive: true });
  return mkdtempSync(join(root, prefix));
}
