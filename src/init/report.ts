import type { Proposal } from './propose.js';
import type { Proof } from './prove.js';
import { count, percent } from './profile.js';
import { validShare } from './reasons.js';
import { tableRef } from './tables.js';

/** What `init` prints after writing the file: what it proposed, whether it validates, the preview. Pure. */
export function formatReport(out: string, p: Proposal, proof: Proof): string {
  const lines: string[] = [];
  const c = p.customers;
  const tables = [
    `customers ${tableRef(c.table)} (${c.fields.length} fields${c.where ? `, where ${c.where.map((w) => w.sql).join(' AND ')}` : ''})`,
  ];
  if (p.policies)
    tables.push(
      `policies ${tableRef(p.policies.table)} (${p.policies.fields.length} fields${p.policies.where ? `, where ${p.policies.where.map((w) => w.sql).join(' AND ')}` : ''})`,
    );
  else tables.push('no policy table');
  if (p.watch.length) tables.push(`watch ${p.watch.map((w) => tableRef(w.table)).join(', ')}`);
  lines.push(`init: wrote ${out}: ${tables.join('; ')}. Every choice is explained in the file.`);
  for (const w of proof.warnings) lines.push(w.startsWith('warning: ') ? w : `warning: ${w}`);
  if (proof.problems.length) {
    lines.push(
      `the proposed config does not validate (${proof.problems.length} problem${proof.problems.length === 1 ? '' : 's'}); edit these keys in ${out}:`,
    );
    for (const pr of proof.problems) lines.push(`  - ${pr}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    'checks: the config validates (check-config), matches the catalog (setup) and its mapping, maps and filters prepare against the tables',
  );
  const t = proof.preview!;
  const inside = t.valid + t.invalid;
  const outside = t.outside ? `; ${count(t.outside)} outside customers.where` : '';
  if (t.customers === 0)
    lines.push(
      `preview: ${tableRef(c.table)} has no rows yet, so nothing could be previewed; the proposal rests on column names and types alone`,
    );
  else
    lines.push(
      `preview of ${count(t.customers)} sampled customers: ${count(t.valid)} of ${count(inside)} valid (${percent(validShare(t))})${outside}. Nothing was sent.`,
    );
  if (t.reasons.length) {
    lines.push('most common reasons for the invalid ones:');
    for (const r of t.reasons)
      lines.push(
        `  ${count(r.customers)} × ${r.path || '(record)'}: ${r.example.replace(/\s*\((?:customers|policies)\.[^)]*\)$/, '')} → edit ${r.configPath}`,
      );
  }
  lines.push(`next: export DATABASE_URL=…; carecycle-sync preview --config ${out}; then setup, doctor and run (see the README)`);
  return `${lines.join('\n')}\n`;
}
