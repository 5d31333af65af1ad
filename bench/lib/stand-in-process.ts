import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface RemoteStandIn {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * The stand-in in its own process (the `stand-in` CLI command), as the real API would be: its
 * CPU does not compete with the client's event loop, so the figures measure our side.
 */
export async function spawnStandIn(apiKey: string, opts: { rpm: number; latencyMs?: number }): Promise<RemoteStandIn> {
  const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  // BENCH_STAND_IN_NODE_ARGS: extra node flags for the stand-in, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_STAND_IN_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const args = [
    ...nodeArgs,
    '--import',
    'tsx',
    cli,
    'stand-in',
    '--port',
    '0',
    '--api-key',
    apiKey,
    '--rpm',
    String(opts.rpm),
    '--latency-ms',
    String(opts.latencyMs ?? 0),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`stand-in exited with code ${code}`)));
    lines.on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m?.[1]) resolve(m[1]);
    });
  });
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}
