import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { silentLogger, createLogger } from '../../src/log/logger.js';
import { runSetup } from '../../src/commands/setup.js';
import { createCapture, type Capture } from '../../src/source/capture.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { sql } from '../harness/db.js';

export interface Running {
  capture: Capture;
  state: StateDb;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts capture in this process (fast flushes, 1 s heartbeat unless the config says otherwise). */
export function startCapture(config: Config, opts: { lockPollMs?: number; onFlushed?: (keys: number) => void } = {}): Running {
  const state = openStateDb(config, { max: 2 });
  const log = process.env.CAPTURE_TEST_LOG ? createLogger({ level: process.env.CAPTURE_TEST_LOG, pretty: false }) : silentLogger();
  const capture = createCapture({ config, state, log, lockPollMs: opts.lockPollMs ?? 200, onFlushed: opts.onFlushed });
  const ac = new AbortController();
  const done = capture.run(ac.signal);
  done.catch(() => undefined);
  return {
    capture,
    state,
    done,
    stop: async () => {
      ac.abort();
      await done.catch(() => undefined);
      await state.close();
    },
  };
}

/** Setup with test-friendly timings: flush every 50 ms, heartbeat every second. */
export async function setupFor(config: Config): Promise<Config> {
  config.sync.flushIntervalMs = 50;
  config.source.heartbeatSeconds = 1;
  await runSetup(config);
  return config;
}

export async function pendingKeys(url: string, schema = 'carecycle_sync'): Promise<Set<string>> {
  const rows = await sql<{ customer_key: string }>(url, `SELECT customer_key FROM "${schema}".pending`);
  return new Set(rows.map((r) => r.customer_key));
}

/** pg_lsn comparison done by Postgres: confirmed_flush_lsn >= lsn. */
export async function confirmedAtLeast(url: string, slot: string, lsn: string): Promise<boolean> {
  const r = await sql<{ ok: boolean | null }>(
    url,
    'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1',
    [slot, lsn],
  );
  return r[0]?.ok === true;
}

export async function confirmedLsn(url: string, slot: string): Promise<string> {
  const r = await sql<{ lsn: string }>(url, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [
    slot,
  ]);
  return r[0]!.lsn;
}

/**
 * The WAL insert position: at or past the commit record of every transaction committed so far.
 * (pg_current_wal_lsn() is the *write* position; with synchronous_commit=off, as in the test
 * clusters, it can lag behind a commit that already returned.)
 */
export async function currentLsn(url: string): Promise<string> {
  return (await sql<{ lsn: string }>(url, 'SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ChildCapture {
  readonly child: import('node:child_process').ChildProcess;
  /** Resolves when the child printed `line` ("connected" or "standby"). */
  saw(line: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Capture in a child process (test/source/capture-child.ts), to be SIGKILLed. */
export function spawnCapture(config: Config): ChildCapture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'capture-child.ts')], {
    env: { ...process.env, CAPTURE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    saw: (line, timeoutMs = 20_000) =>
      waitFor(
        `capture child to print "${line}" (stderr: ${err.trim()})`,
        () => {
          if (child.exitCode !== null) throw new Error(`capture child exited with ${child.exitCode}: ${err.trim()}`);
          return out.split('\n').includes(line);
        },
        timeoutMs,
        20,
      ),
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
