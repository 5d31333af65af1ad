/**
 * `carecycle-sync run` as a child process, exactly as an operator starts it:
 * `carecycle-sync run --config <file> --port 0` (the test run's CLI bundle, or the sources
 * through tsx; see test/harness/cli-bundle.ts) with DATABASE_URL,
 * CARECYCLE_BASE_URL and CARECYCLE_API_KEY in the environment. Its JSON log lines (stderr) are
 * kept, the health port is read from them, and it is stopped with real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../src/paths.js';
import { waitFor } from '../source/helpers.js';
import { testTempDir } from '../harness/tmp.js';
import { cliArgs } from '../harness/cli-bundle.js';

/** config/demo.yaml (its `${…}` references left for the child to interpolate) with `patch` applied, as a temp file. */
export function demoConfigFile(patch: (raw: any) => void): string {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  patch(raw);
  const path = join(testTempDir('ccs-run-'), 'config.yaml');
  writeFileSync(path, stringify(raw));
  return path;
}

export interface DaemonEnv {
  DATABASE_URL: string;
  CARECYCLE_BASE_URL: string;
  CARECYCLE_API_KEY: string;
}

export interface DaemonChild {
  readonly child: ChildProcess;
  /** Parsed JSON log lines so far (unparseable lines as `{ raw }`). */
  readonly logs: Array<Record<string, any>>;
  /** Port of /healthz, /readyz, /metrics once it logged it. */
  port(): Promise<number>;
  readyz(): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> } }>;
  /** Resolves when a log line matches. */
  sawLog(what: string, match: (l: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the exit code (or signal) and how long after `since` it came. */
  exited(since?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  kill(signal: NodeJS.Signals): void;
  /** The stderr tail, for failure messages. */
  tail(): string;
}

export function startDaemonChild(configPath: string, env: DaemonEnv, args: string[] = []): DaemonChild {
  const child = spawn(process.execPath, cliArgs('run', '--config', configPath, '--port', '0', ...args), {
    cwd: packageRoot(),
    env: { ...process.env, NO_COLOR: '1', LOG_LEVEL: 'info', CARECYCLE_API_KEY_FILE: '', STATE_DATABASE_URL: '', PORT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, any>> = [];
  let pending = '';
  let stderr = '';
  // E2E_DAEMON_LOG=<file> keeps every daemon's log lines for a look after the run.
  const keep = process.env.E2E_DAEMON_LOG;
  child.stderr!.on('data', (d: Buffer) => {
    if (keep) appendFileSync(keep, d);
    stderr = (stderr + d.toString()).slice(-8000);
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, any>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const tail = () => stderr.split('\n').slice(-15).join('\n');

  const sawLog = async (what: string, match: (l: Record<string, any>) => boolean, timeoutMs = 30_000) => {
    let found: Record<string, any> | undefined;
    await waitFor(
      `the daemon to log ${what}; stderr tail:\n${tail()}`,
      () => {
        if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode} before logging ${what}:\n${tail()}`);
        found = logs.find(match);
        return found !== undefined;
      },
      timeoutMs,
      25,
    );
    return found!;
  };
  let port: Promise<number> | undefined;
  const getPort = () =>
    (port ??= sawLog('its health port', (l) => l.component === 'health' && typeof l.port === 'number').then((l) => l.port as number));

  return {
    child,
    logs,
    port: getPort,
    async readyz() {
      const res = await fetch(`http://127.0.0.1:${await getPort()}/readyz`);
      return { status: res.status, body: (await res.json()) as any };
    },
    sawLog,
    async exited(since = Date.now()) {
      const e = await exit;
      return { code: e.code, signal: e.signal, ms: e.at - since };
    },
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    tail,
  };
}
