import type { DoctorReport } from './types.js';

/** Doctor output for people (pure; the CLI writes it). One line per check, fixes indented. */
export function formatReport(r: DoctorReport): string {
  const lines: string[] = [];
  const width = Math.min(40, Math.max(...r.checks.map((c) => c.name.length), 10));
  for (const c of r.checks) {
    const mark = !c.ok ? 'FAIL' : c.warn ? 'warn' : ' ok ';
    lines.push(`[${mark}] ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && (!c.ok || c.warn)) lines.push(`${' '.repeat(width + 9)}fix: ${c.fix}`);
  }
  const failed = r.checks.filter((c) => !c.ok).length;
  const warned = r.checks.filter((c) => c.ok && c.warn).length;
  lines.push('');
  lines.push(
    failed === 0
      ? `all ${r.checks.length} checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`
      : `${failed} of ${r.checks.length} checks failed${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}: apply the fixes above, then run carecycle-sync doctor again`,
  );
  return lines.join('\n') + '\n';
}

export function formatReportJson(r: DoctorReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}
