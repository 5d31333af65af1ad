import { Writable } from 'node:stream';

/**
 * The demo's stdout and stderr as streams that keep accepting writes after their reader went
 * away: once the target is broken (EPIPE) or destroyed, writes are dropped instead of raising
 * errors, so the stop sequence (drain, stop Postgres, remove its directory) runs to the end.
 */
export type DemoOutput = Writable & { isTTY?: boolean; columns?: number };

export function guardedOutput(target: NodeJS.WriteStream): DemoOutput {
  const out: DemoOutput = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!target.destroyed && !target.errored && target.writable) target.write(chunk);
      done();
    },
  });
  out.isTTY = target.isTTY;
  Object.defineProperty(out, 'columns', { get: () => target.columns });
  return out;
}
