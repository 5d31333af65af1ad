/**
 * What happens when the reader of our stdout or stderr goes away (`status | head`, or
 * `npm start | tee demo.log` and a Ctrl-C that stops `tee` first). By default the process
 * exits quietly: there is nobody left to tell. A command that holds resources it must release
 * first (the demo's throwaway Postgres) registers a handler and then finishes on its own.
 */

type Handler = (err: NodeJS.ErrnoException) => void;
let handler: Handler | undefined;

/** Replaces the default (exit at once) while the command runs; returns the undo. */
export function onBrokenPipe(fn: Handler): () => void {
  handler = fn;
  return () => {
    if (handler === fn) handler = undefined;
  };
}

/** True for the errors a write to a closed pipe or a destroyed stream produces. */
export const isBrokenPipe = (err: NodeJS.ErrnoException): boolean => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';

/** Called by the stdout/stderr error listeners: the registered handler, or exit. */
export function brokenPipe(err: NodeJS.ErrnoException): void {
  if (handler) handler(err);
  else process.exit(process.exitCode ?? 0);
}
