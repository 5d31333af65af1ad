import type { Command } from 'commander';
import { action, loadContext, withConfigOption, type GlobalOptions } from '../context.js';
import { runSetup, setupSql } from '../../commands/setup.js';
import { formatProblem } from '../../pg/catalog.js';

/** `carecycle-sync setup [--print-sql]`: state schema, publication and slot, idempotent. */
export function register(program: Command): void {
  withConfigOption(program.command('setup'))
    .description(
      'check the config against the database, create the state schema, the publication and the\n' +
        'replication slot (idempotent); --print-sql prints the SQL for a DBA instead',
    )
    .option('--print-sql', 'print the SQL instead of running it (no connection is made)')
    .action(
      action(async (opts: GlobalOptions & { printSql?: boolean }) => {
        const ctx = loadContext(opts);
        if (opts.printSql) {
          process.stdout.write(setupSql(ctx.config));
          return 0;
        }
        const result = await runSetup(ctx.config, { configPath: ctx.path });
        for (const w of result.warnings) process.stderr.write(`${formatProblem(w)}\n`);
        for (const a of result.actions) process.stdout.write(`${a}\n`);
        process.stdout.write('setup complete\n');
        return 0;
      }),
    );
}
