import type { Command } from 'commander';
import { action } from '../context.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_CONFIG_PATH } from '../../config/load.js';
import { runInit } from '../../init/run.js';

/**
 * `carecycle-sync init [--database-url URL] [--out FILE] [--schema S…] [--force]`: reads the
 * CRM's catalog and a bounded sample (read-only), writes a commented config proposing tables,
 * fields, transforms, maps and filters, and proves it with the config checks and a preview.
 * Exit 0 the proposal validates, 1 no customer table (or it does not validate), 2 usage.
 */
interface InitCliOptions {
  databaseUrl?: string;
  out?: string;
  schema?: string[];
  force?: boolean;
  sample: string;
  preview: string;
}

function whole(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`init: ${name} must be a whole number from ${min} to ${max}, found ${JSON.stringify(v)}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'propose a commented config from the CRM itself: reads the catalog and a bounded sample (read-only), then proves it with the config checks and a preview',
    )
    .option('--database-url <url>', 'the CRM database (default: env DATABASE_URL)')
    .option(
      '-o, --out <file>',
      `where to write the config (default: env CARECYCLE_SYNC_CONFIG, else ${DEFAULT_CONFIG_PATH}, where the other commands look)`,
    )
    .option('--schema <schema...>', 'schemas to look in (default: public)')
    .option('--force', 'overwrite --out if it exists')
    .option('--sample <n>', 'rows sampled per table (TABLESAMPLE + LIMIT above 2 MB: never a full scan of a large table)', '1000')
    .option('--preview <n>', 'sampled customers assembled by the proving preview', '500')
    .action(
      action(async (opts: InitCliOptions) => {
        const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
        if (!databaseUrl) throw new UsageError('init: no database: pass --database-url URL or set DATABASE_URL');
        const outcome = await runInit({
          databaseUrl,
          out: opts.out ?? (process.env.CARECYCLE_SYNC_CONFIG || DEFAULT_CONFIG_PATH),
          schemas: opts.schema?.length ? opts.schema : ['public'],
          force: opts.force === true,
          sampleRows: whole('--sample', opts.sample, 10, 5000),
          previewLimit: whole('--preview', opts.preview, 1, 5000),
        });
        (outcome.code === 0 ? process.stdout : process.stderr).write(outcome.report);
        return outcome.code;
      }),
    );
}
