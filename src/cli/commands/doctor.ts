import type { Command } from 'commander';
import { action, loadContext, withConfigOption, type GlobalOptions } from '../context.js';
import { formatReport, formatReportJson, runDoctor } from '../../commands/doctor/index.js';
import { scrub } from '../../log/secrets.js';

/** `carecycle-sync doctor [--json] [--skip-api]`: exit 0 when every check passes, else 1. */
export function register(program: Command): void {
  withConfigOption(program.command('doctor'))
    .description(
      'preflight: wal_level, slot and sender headroom, privileges, replica identity, publication and\n' +
        'slot state, WAL retained, config vs catalog, API reachability and key validity; each failed\n' +
        'check prints the statement or action that fixes it (changes nothing)',
    )
    .option('--json', 'print the checks as JSON')
    .option('--skip-api', 'do not probe the CareCycle API (the probe costs one request of the per-minute budget)')
    .action(
      action(async (opts: GlobalOptions & { json?: boolean; skipApi?: boolean }) => {
        const ctx = loadContext(opts);
        const result = await runDoctor(ctx.config, { skipApi: opts.skipApi === true });
        process.stdout.write(scrub(opts.json ? formatReportJson(result) : formatReport(result)));
        return result.ok ? 0 : 1;
      }),
    );
}
