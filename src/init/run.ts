import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { FatalError, UsageError } from '../errors.js';
import { registerUrlSecrets } from '../log/secrets.js';
import { pgConfigForUrl } from '../config/pg-connection.js';
import { isProposal, propose, type Proposal } from './propose.js';
import { READ_ONLY_OPTIONS, proveConfig, type Proof } from './prove.js';
import { renderConfig } from './render.js';
import { sampleSchemas } from './sample.js';
import { formatReport } from './report.js';

/**
 * `carecycle-sync init`: connect read-only, sample, propose, write the file, prove it. The
 * decisions live in the pure modules beside this one; this file only orders the I/O.
 */
export interface InitOptions {
  databaseUrl: string;
  out: string;
  schemas: string[];
  force: boolean;
  /** Rows sampled per table. */
  sampleRows: number;
  /** Sampled customers assembled by the preview. */
  previewLimit: number;
  now?: Date;
}

export interface InitOutcome {
  /** 0 valid, 1 no customer table or the proposal does not validate. */
  code: 0 | 1;
  report: string;
  file?: string;
  proposal?: Proposal;
  proof?: Proof;
}

/** The database name of a connection string, for messages (never its password). */
export function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || '(default database)';
  } catch {
    return '(database)';
  }
}

export async function runInit(opts: InitOptions): Promise<InitOutcome> {
  registerUrlSecrets(opts.databaseUrl);
  const file = resolve(opts.out);
  if (existsSync(file) && !opts.force)
    throw new UsageError(`init: ${opts.out} already exists; pass --force to overwrite it, or --out FILE to write elsewhere`);
  const client = new pg.Client(pgConfigForUrl(opts.databaseUrl, { application_name: 'carecycle-sync init', options: READ_ONLY_OPTIONS }));
  client.on('error', () => undefined);
  await client.connect().catch((err: unknown) => {
    throw new FatalError(`init: cannot connect to database ${databaseName(opts.databaseUrl)}: ${(err as Error).message}`, { cause: err });
  });
  let tables;
  try {
    await client.query('BEGIN READ ONLY');
    tables = await sampleSchemas(client, opts.schemas, opts.sampleRows);
    await client.query('ROLLBACK');
  } finally {
    await client.end().catch(() => undefined);
  }
  const proposal = propose(tables);
  if (!isProposal(proposal)) {
    const report = [
      `init: no customer table found in schema${opts.schemas.length > 1 ? 's' : ''} ${opts.schemas.join(', ')} of ${databaseName(opts.databaseUrl)}; nothing written.`,
      `looked for ${proposal.lookedFor}.`,
      ...(proposal.tables.length
        ? ['tables read:', ...proposal.tables.map((t) => `  ${t}`)]
        : ['no readable tables there (try --schema S)']),
    ].join('\n');
    return { code: 1, report: `${report}\n` };
  }
  const text = renderConfig(proposal, {
    database: databaseName(opts.databaseUrl),
    schemas: opts.schemas,
    sampleRows: opts.sampleRows,
    at: opts.now ?? new Date(),
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
  const keys = proposal.customers.table.sampledKeys.slice(0, opts.previewLimit);
  const proof = await proveConfig(file, opts.databaseUrl, keys);
  return { code: proof.problems.length ? 1 : 0, report: formatReport(opts.out, proposal, proof), file, proposal, proof };
}
