import { spawn } from 'node:child_process';

/**
 * A tiny shell process that outlives the demo if the demo dies without cleaning up (SIGKILL,
 * the OOM killer, a crash in native code): it waits on a pipe from the demo, and when the
 * pipe reaches end of file without the word "done" (the demo is gone), it stops the Postgres
 * server (immediate shutdown) and removes the throwaway directory. It runs in its own process
 * group, so a Ctrl-C in the terminal does not reach it. A clean stop says "done" and it exits.
 */
const SCRIPT = `
read -r word
[ "$word" = done ] && exit 0
kill -QUIT "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf "$2"
`;

export interface Watchdog {
  /** The demo removed everything itself: the watchdog exits without doing anything. */
  release(): void;
}

export function startWatchdog(serverPid: number, dir: string): Watchdog {
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'carecycle-sync-demo-watchdog', String(serverPid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  // Neither the process nor the pipe may keep the demo alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      child.stdin!.end('done\n');
    },
  };
}
