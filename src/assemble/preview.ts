import type { AssembleResult } from './decide.js';

/**
 * What `carecycle-sync preview` prints for assembled results: per customer the verdict and the
 * JSON that would be sent (or the invalid payload with every field path and reason). Pure.
 */
export interface PreviewSummary {
  customers: number;
  valid: number;
  records: number;
  invalid: number;
  unchanged: number;
  deleted: number;
}

export function summarize(results: readonly AssembleResult[]): PreviewSummary {
  const count = (v: AssembleResult['verdict']) => results.filter((r) => r.verdict === v).length;
  return {
    customers: results.length,
    valid: count('send'),
    records: results.reduce((n, r) => n + r.records.length, 0),
    invalid: count('invalid'),
    unchanged: count('unchanged'),
    deleted: count('deleted'),
  };
}

/** The `--json` document. */
export function previewJson(results: readonly AssembleResult[]): object {
  return {
    sent: false,
    summary: summarize(results),
    results: results.map((r) => ({
      key: r.key,
      verdict: r.verdict === 'send' ? 'valid' : r.verdict,
      records: r.records,
      ...(r.verdict === 'invalid' ? { issues: r.issues, payload: r.payload } : {}),
      ...(r.deleteAction ? { deleteAction: r.deleteAction } : {}),
      ...(r.vanished.length ? { vanishedPolicies: r.vanished } : {}),
      ...(r.omitted ? { omitted: r.omitted } : {}),
    })),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const json = (v: unknown) => JSON.stringify(v, null, 2);

function headline(r: AssembleResult): string {
  const policies = r.records.reduce((n, rec) => n + (rec.policies?.length ?? 0), 0);
  switch (r.verdict) {
    case 'send': {
      const vanished = r.vanished.length ? `; ${plural(r.vanished.length, 'policy')} gone since the last send` : '';
      return `valid: ${plural(r.records.length, 'record')}, ${plural(policies, 'policy').replace('policys', 'policies')}${vanished}`;
    }
    case 'unchanged':
      return 'unchanged since the last send: skipped, costs no request';
    case 'invalid':
      return `INVALID at ${r.issues[0]?.path || '(record)'}: ${r.issues[0]?.reason ?? 'unknown reason'}`;
    case 'deleted':
      return r.records.length
        ? `deleted or outside customers.where: onCustomerDelete=${r.deleteAction} sends ${plural(policies, 'remembered policy').replace('policys', 'policies')} as Cancelled`
        : `deleted or outside customers.where: onCustomerDelete=${r.deleteAction}, nothing to send`;
  }
}

/** Human-readable preview. */
export function renderPreview(results: readonly AssembleResult[], note?: string): string {
  const out: string[] = [];
  if (note) out.push(`note: ${note}`, '');
  for (const r of results) {
    out.push(`customer ${r.key}: ${headline(r)}`);
    if (r.verdict === 'invalid') {
      for (const i of r.issues) out.push(`  - ${i.path || '(record)'}: ${i.reason}`);
      out.push(json(r.payload));
    } else if (r.records.length) {
      for (const o of r.omitted ?? []) out.push(`  - left out (sync.onInvalidOptional: omit) ${o.path}: ${o.reason}`);
      out.push(json(r.records.length === 1 ? r.records[0] : r.records));
    }
    out.push('');
  }
  const s = summarize(results);
  out.push(
    `${plural(s.customers, 'customer')}: ${s.valid} valid (${plural(s.records, 'record')}), ${s.invalid} invalid, ` +
      `${s.unchanged} unchanged, ${s.deleted} deleted. Nothing was sent.`,
  );
  return out.join('\n') + '\n';
}
