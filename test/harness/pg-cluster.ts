// The cluster starter lives in src/demo so the demo (production code) can use it without importing test/.
import { startCluster as startDemoCluster, type ClusterOptions, type PgCluster } from '../../src/demo/pg-cluster.js';

export * from '../../src/demo/pg-cluster.js';

/**
 * Tests' clusters also go down when the test process is stopped by a signal (Ctrl-C, a runner's
 * SIGTERM): nothing on these machines reaps orphans, so a server left behind keeps its port and
 * temp dir until someone kills it by hand. (`process.exit` is covered in src/demo/pg-cluster.ts.)
 * Only here, not in the demo, which drains its daemon on Ctrl-C before stopping its server.
 *
 * The cluster is also disposable: `await using cluster = await startCluster(…)` destroys it when
 * the block is left, however it is left.
 */
export async function startCluster(opts: ClusterOptions): Promise<PgCluster & AsyncDisposable> {
  const cluster = await startDemoCluster(opts);
  track(cluster);
  const destroy = async () => {
    live.delete(cluster);
    if (live.size === 0) unlisten();
    await cluster.destroy();
  };
  return { ...cluster, destroy, [Symbol.asyncDispose]: destroy };
}

const live = new Set<PgCluster>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(sig: NodeJS.Signals): void {
  // stopServer signals the server synchronously (fast shutdown), before its first await.
  for (const c of live) void c.stopServer();
  if (process.listenerCount(sig) === 1) {
    // Alone on this signal: don't swallow it; restore the default and re-raise.
    unlisten();
    process.kill(process.pid, sig);
  }
}

function unlisten(): void {
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function track(c: PgCluster): void {
  if (live.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  live.add(c);
}
