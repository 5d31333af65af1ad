import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startStandIn } from '../../carecycle/stand-in/index.js';
import { action } from '../context.js';
import { UsageError } from '../../errors.js';

interface StandInCliOptions {
  port: number;
  host: string;
  apiKey?: string;
  rpm: number;
  latencyMs: number;
  errorRate: number;
  rateLimitBurst: number;
  drop: number;
  retryAfter: number;
  recordError: string[];
  validationStatus: number;
}

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const num = (name: string, max = Infinity) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number between 0 and ${max}`);
  return n;
};

/** `carecycle-sync stand-in`: the local CareCycle stand-in, for trying things by hand (DESIGN §3). */
export function register(program: Command): void {
  program
    .command('stand-in')
    .description('run the local CareCycle stand-in (POST /v2/sync/aca) until Ctrl-C')
    .option('--port <n>', 'port on the host (0 = any free port)', int('--port'), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--api-key <key>', 'the only accepted x-api-key (must start with cc_)')
    .option('--rpm <n>', 'requests accepted per rolling minute', int('--rpm'), 60)
    .option('--latency-ms <n>', 'delay every answer by this many ms', int('--latency-ms'), 0)
    .option('--error-rate <p>', 'probability (0-1) of answering 503', num('--error-rate', 1), 0)
    .option('--rate-limit-burst <n>', 'answer the first N requests with 429', int('--rate-limit-burst'), 0)
    .option('--drop <n>', 'drop the connection of the first N requests', int('--drop'), 0)
    .option('--retry-after <s>', 'retryAfter seconds in injected 429s', num('--retry-after'), 1)
    .option('--record-error <externalId>', 'fail this record with a per-record error (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--validation-status <n>', 'HTTP status of validation errors (400 or 422)', int('--validation-status'), 400)
    .action(action(runStandIn));
}

async function runStandIn(opts: StandInCliOptions): Promise<number> {
  if (!opts.apiKey || !opts.apiKey.startsWith('cc_')) throw new UsageError('--api-key is required and must start with cc_');
  if (opts.validationStatus !== 400 && opts.validationStatus !== 422) throw new UsageError('--validation-status must be 400 or 422');
  const standIn = await startStandIn({
    apiKey: opts.apiKey,
    rpm: opts.rpm,
    port: opts.port,
    host: opts.host,
    validationStatus: opts.validationStatus,
    onRequest: (e) =>
      process.stdout.write(`${new Date(e.at).toISOString()} ${e.status || 'dropped'} records=${e.records}${e.fault ? ` fault=${e.fault}` : ''}\n`),
  });
  standIn.faults.set({
    latencyMs: opts.latencyMs,
    serverErrorRate: opts.errorRate,
    rateLimitBurst: opts.rateLimitBurst,
    dropConnections: opts.drop,
    retryAfterSeconds: opts.retryAfter,
  });
  for (const id of opts.recordError) standIn.faults.rejectRecord(id);
  process.stdout.write(`CareCycle stand-in listening on ${standIn.url} (POST /v2/sync/aca, ${opts.rpm} requests/minute); Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await standIn.close();
  process.stdout.write(`stand-in stopped: ${standIn.store.customers.size} customers, ${standIn.store.policyCount()} policies stored\n`);
  return 0;
}
