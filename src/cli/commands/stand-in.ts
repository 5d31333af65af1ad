import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ANSWER_SHAPES, ERROR_ITEM_FORMS, startStandIn, type AnswerShape, type ErrorItemForm } from '../../carecycle/stand-in/index.js';
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
  answerShape: AnswerShape;
  errorItems: ErrorItemForm;
  countsDisagree: boolean;
  proxyHtml: number;
  proxyStatus: number;
  poison: string[];
  dropAfterProcessing: boolean;
  ignoreNulls?: boolean;
}

const oneOf =
  <T extends string>(name: string, values: readonly T[]) =>
  (v: string): T => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return v as T;
  };
const collect = (v: string, acc: string[]) => [...acc, v];

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const num =
  (name: string, max = Infinity) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number between 0 and ${max}`);
    return n;
  };

/** `carecycle-sync stand-in`: the local CareCycle stand-in, for trying things by hand. */
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
    .option('--record-error <externalId>', 'fail this record with a per-record error (repeatable)', collect, [] as string[])
    .option('--validation-status <n>', 'HTTP status of validation errors (400 or 422)', int('--validation-status'), 400)
    .option(
      '--answer-shape <shape>',
      `how 200 answers are phrased: current (with results), legacy (the older answer without results), drifted (extra fields, message instead of error, no succeeded, no previousStatus)`,
      oneOf('--answer-shape', ANSWER_SHAPES),
      'current',
    )
    .option(
      '--error-items <form>',
      'per-record errors as full items, or id-only (no externalId, no message)',
      oneOf('--error-items', ERROR_ITEM_FORMS),
      'full',
    )
    .option('--counts-disagree', 'succeeded counts failed records too, and errors lists only the first failure')
    .option('--proxy-html <n>', 'answer the first N requests with an HTML page, as a proxy or firewall would', int('--proxy-html'), 0)
    .option('--proxy-status <n>', 'HTTP status of those pages (400 or 403)', int('--proxy-status'), 400)
    .option('--poison <externalId>', 'every request carrying this externalId gets 500 (repeatable)', collect, [] as string[])
    .option('--drop-after-processing', 'with --drop: store the records, then drop the connection (the answer is lost, the work is not)')
    .option('--ignore-nulls', 'treat an explicit null like an omitted field (keep the stored value) instead of clearing it')
    .action(action(runStandIn));
}

async function runStandIn(opts: StandInCliOptions): Promise<number> {
  if (!opts.apiKey || !opts.apiKey.startsWith('cc_')) throw new UsageError('--api-key is required and must start with cc_');
  if (opts.validationStatus !== 400 && opts.validationStatus !== 422) throw new UsageError('--validation-status must be 400 or 422');
  if (opts.proxyStatus !== 400 && opts.proxyStatus !== 403) throw new UsageError('--proxy-status must be 400 or 403');
  const standIn = await startStandIn({
    apiKey: opts.apiKey,
    rpm: opts.rpm,
    port: opts.port,
    host: opts.host,
    validationStatus: opts.validationStatus,
    nullValues: opts.ignoreNulls ? 'ignore' : 'clear',
    onRequest: (e) =>
      process.stdout.write(
        `${new Date(e.at).toISOString()} ${e.status || 'dropped'} records=${e.records}${e.fault ? ` fault=${e.fault}` : ''}\n`,
      ),
  });
  standIn.faults.set({
    latencyMs: opts.latencyMs,
    serverErrorRate: opts.errorRate,
    rateLimitBurst: opts.rateLimitBurst,
    dropConnections: opts.drop,
    retryAfterSeconds: opts.retryAfter,
    answerShape: opts.answerShape,
    errorItems: opts.errorItems,
    countsDisagree: opts.countsDisagree === true,
    proxyHtml: opts.proxyHtml,
    proxyStatus: opts.proxyStatus,
    poisonExternalIds: new Set(opts.poison),
    dropAfterProcessing: opts.dropAfterProcessing === true,
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
