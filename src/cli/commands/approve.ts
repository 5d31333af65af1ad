import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { openStateDb } from '../../state/db.js';
import { requireStateSetUp } from '../../observe/status/setup-check.js';
import { formatCount } from '../../lib/units.js';
import { approveHeld, readHeld } from '../../deliver/held.js';

interface ApproveOptions extends GlobalOptions {
  yes?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withConfigOption(
    program
      .command('approve')
      .description('send the records the mass-cancellation rail holds (sync.safety.maxCancellations); without --yes, show what would go'),
  )
    .option('--yes', 'release them')
    .option('--json', 'machine-readable output')
    .action(action((opts: ApproveOptions) => approve(opts)));
}

async function approve(opts: ApproveOptions): Promise<number> {
  const { config } = loadContext(opts);
  const state = openStateDb(config, { max: 1, applicationName: 'carecycle-sync approve' });
  try {
    await requireStateSetUp(state);
    const held = opts.yes ? await approveHeld(state) : await readHeld(state);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ approved: opts.yes === true && held.customers > 0, held }) + '\n');
      return 0;
    }
    if (held.customers === 0) {
      process.stdout.write('Nothing is held: no records wait for approval.\n');
      return 0;
    }
    const what = `${formatCount(held.customers)} customers whose records cancel or terminate ${formatCount(held.policies)} policies (held since ${held.since})`;
    process.stdout.write(
      opts.yes
        ? `Approved: ${what}. The running daemon sends them now, behind live changes.\n`
        : `Held: ${what}.\nReason: ${held.reason ?? 'more cancellations within 15 minutes than sync.safety.maxCancellations allows'}.\n` +
            'If the CRM is right, run `carecycle-sync approve --yes` to send them. If not, restore the rows: the records no longer cancel anything and go by themselves.\n',
    );
    return 0;
  } finally {
    await state.close();
  }
}
