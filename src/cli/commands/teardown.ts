import type { Command } from 'commander';
import { action, loadContext, withConfigOption, type GlobalOptions } from '../context.js';
import { runTeardown, teardownPlan } from '../../commands/teardown.js';

/** `carecycle-sync teardown --yes [--drop-state]`: drops the slot and the publication (and the state). */
export function register(program: Command): void {
  withConfigOption(program.command('teardown'))
    .description('drop the replication slot and the publication (--drop-state: also the state schema)')
    .option('--yes', 'really drop them')
    .option('--drop-state', 'also drop the state schema (queue, checkpoint, dead letters)')
    .action(
      action(async (opts: GlobalOptions & { yes?: boolean; dropState?: boolean }) => {
        const ctx = loadContext(opts);
        const plan = { dropState: opts.dropState === true };
        if (!opts.yes) {
          process.stderr.write('teardown would drop:\n');
          for (const line of teardownPlan(ctx.config, plan)) process.stderr.write(`  - ${line}\n`);
          process.stderr.write('nothing dropped: pass --yes to do it\n');
          return 2;
        }
        const result = await runTeardown(ctx.config, plan);
        for (const line of result.lines) process.stdout.write(`${line}\n`);
        // Exit 1 when something stays behind for someone else to drop (the output says what).
        return result.incomplete ? 1 : 0;
      }),
    );
}
