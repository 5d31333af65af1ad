import { describe, expect, it } from 'vitest';
import { summaryLine } from './summary-reporter.js';

describe('summaryLine', () => {
  it('prints the counts, skipped only when some were skipped', () => {
    expect(summaryLine({ passed: 12, failed: 0, skipped: 0 }, false)).toBe('tests: 12 passed, 0 failed');
    expect(summaryLine({ passed: 3, failed: 2, skipped: 1 }, true)).toBe('tests: 3 passed, 2 failed, 1 skipped');
  });

  it('never reports a failed run as zero failures', () => {
    expect(summaryLine({ passed: 0, failed: 0, skipped: 0 }, true)).toBe('tests: 0 passed, 1 failed');
    expect(summaryLine({ passed: 7, failed: 0, skipped: 0 }, true)).toBe('tests: 7 passed, 1 failed');
  });
});
