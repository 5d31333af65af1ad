import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { openStateDb } from '../../state/db.js';
import { scrub } from '../../log/secrets.js';
import { collectStatus } from '../../observe/status/collect.js';
import { renderStatus } from '../../commands/status-format.js';
import { openSourcePool } from '../../pg/pool.js';

interface StatusOptions extends GlobalOptions {
  json?: boolean;
}

export function register(program: Command): void {
  withConfigOption(
    program
      .command('status')
      .description('slot lag and retained WAL, confirmed LSN, queue depth and age, dead letters, backfill progress, API quota, last error')
      .option('--json', 'machine-readable output'),
  ).action(action((opts: StatusOptions) => status(opts)));
}

/** Exit 0 when set up (whatever the daemon is doing), 1 when the slot or state schema is missing. */
async function status(opts: StatusOptions): Promise<number> {
  const { config } = loadContext(opts);
  const state = openStateDb(config, { max: 2, applicationName: 'carecycle-sync status' });
  const crm = openSourcePool(config, { max: 1, application_name: 'carecycle-sync status' });
  try {
    const report = await collectStatus(state, crm, config);
    process.stdout.write(opts.json ? scrub(JSON.stringify(report, null, 2)) + '\n' : renderStatus(report));
    return report.setUp ? 0 : 1;
  } finally {
    await crm.end().catch(() => undefined);
    await state.close();
  }
}
