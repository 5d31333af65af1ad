import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { UsageError } from '../../errors.js';
import { scrub } from '../../log/secrets.js';
import { openStateDb, type StateDb } from '../../state/db.js';
import { requireStateSetUp } from '../../observe/status/setup-check.js';
import { formatAgo } from '../../lib/units.js';
import {
  discardDeadLetters,
  listDeadLetters,
  retryDeadLetters,
  type ActionResult,
  type DeadLetter,
  type Selection,
} from '../../deliver/dead-letters.js';

interface DlOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
  limit?: string;
}

export function register(program: Command): void {
  const dl = program
    .command('dead-letters')
    .description('records that could not be delivered: list them, retry them (after fixing the CRM data) or discard them');
  withConfigOption(dl.command('list').description('show dead letters, newest first'))
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'show at most this many', '1000')
    .action(action((opts: DlOptions) => withState(opts, (state) => list(state, opts))));
  for (const verb of ['retry', 'discard'] as const) {
    withConfigOption(
      dl
        .command(`${verb} [keys...]`)
        .description(
          verb === 'retry' ? 're-queue customers at live priority and delete their dead letters' : 'delete dead letters without re-sending',
        ),
    )
      .option('--all', `${verb} every dead letter`)
      .option('--json', 'machine-readable output')
      .action(action((keys: string[], opts: DlOptions) => withState(opts, (state) => act(state, verb, selection(keys, opts), opts))));
  }
}

function selection(keys: string[], opts: DlOptions): Selection {
  if (opts.all && keys.length > 0) throw new UsageError('give customer keys or --all, not both');
  if (opts.all) return { all: true };
  if (keys.length === 0) throw new UsageError('give the customer keys to act on, or --all');
  return { keys };
}

async function withState(opts: DlOptions, fn: (state: StateDb) => Promise<number>): Promise<number> {
  const { config } = loadContext(opts);
  const state = openStateDb(config, { max: 1, applicationName: 'carecycle-sync dead-letters' });
  try {
    await requireStateSetUp(state);
    return await fn(state);
  } finally {
    await state.close();
  }
}

const print = (text: string) => process.stdout.write(scrub(text) + '\n');

async function list(state: StateDb, opts: DlOptions): Promise<number> {
  const limit = Number(opts.limit ?? '1000');
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit: expected a positive integer, got ${opts.limit}`);
  const { total, items } = await listDeadLetters(state, { limit });
  if (opts.json) {
    print(JSON.stringify({ total, items }, null, 2));
    return 0;
  }
  if (total === 0) {
    print('No dead letters.');
    return 0;
  }
  print(renderTable(items));
  print(
    `${total} dead letter${total === 1 ? '' : 's'}${items.length < total ? ` (showing ${items.length})` : ''}. ` +
      'Fix the data in the CRM, then `carecycle-sync dead-letters retry KEY…` (or --all).',
  );
  return 0;
}

export function renderTable(items: DeadLetter[], now = new Date()): string {
  const head = ['KEY', 'FIELD', 'HTTP', 'ATTEMPTS', 'LAST FAILED', 'REASON'];
  const rows = items.map((d) => [
    d.key,
    d.fieldPath ?? '-',
    d.httpStatus === null ? '-' : String(d.httpStatus),
    String(d.attempts),
    formatAgo(d.lastFailedAt, now),
    d.reason,
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const shortList = (keys: string[]) =>
  keys.length <= 20 ? keys.join(', ') : `${keys.slice(0, 20).join(', ')}, … (${keys.length - 20} more)`;

async function act(state: StateDb, verb: 'retry' | 'discard', sel: Selection, opts: DlOptions): Promise<number> {
  const res: ActionResult = verb === 'retry' ? await retryDeadLetters(state, sel) : await discardDeadLetters(state, sel);
  if (opts.json) {
    print(JSON.stringify({ [verb === 'retry' ? 'retried' : 'discarded']: res.done, unknown: res.unknown }, null, 2));
  } else {
    const past = verb === 'retry' ? 'Re-queued' : 'Discarded';
    if (res.done.length > 0) print(`${past} ${res.done.length} dead letter${res.done.length === 1 ? '' : 's'}: ${shortList(res.done)}`);
    else if ('all' in sel) print('No dead letters.');
    if (res.unknown.length > 0)
      process.stderr.write(scrub(`error: no dead letter for key${res.unknown.length === 1 ? '' : 's'}: ${res.unknown.join(', ')}\n`));
  }
  return res.unknown.length > 0 ? 1 : 0;
}
