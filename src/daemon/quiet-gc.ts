import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection when the daemon falls quiet after work (docs/footprint.md).
 *
 * A backfill or a burst of changes leaves the V8 heap some 10 MB larger than what is live, and
 * an idle process allocates too little for V8 to collect it by itself: the garbage would stay
 * resident for as long as nothing happens, which for most agencies is most of the time. So after
 * `quietMs` without work the daemon collects once; work re-arms it, and nothing else does (no
 * timer runs while idle). A full collection of the daemon's heap takes a few tens of ms.
 */
export interface QuietCollector {
  /** Something was done (keys captured, a batch settled): collect once it has been quiet. */
  activity(): void;
  close(): void;
}

export const QUIET_GC_MS = 10_000;
/**
 * Collections in a row, a second apart: the first frees the garbage, and V8 gives the emptied
 * pages back to the system only once they are swept; the next ones compact what is left. With
 * one collection the heap stayed at its busy size for another half minute.
 */
const COLLECTIONS = 3;
const BETWEEN_MS = 1000;

function collectTimes(collect: () => void, times: number): void {
  collect();
  if (times > 1) setTimeout(() => collectTimes(collect, times - 1), BETWEEN_MS).unref();
}

export function quietCollector(o: { quietMs?: number; collect?: () => void } = {}): QuietCollector {
  const quietMs = o.quietMs ?? QUIET_GC_MS;
  const collect = o.collect ?? fullGc();
  let timer: NodeJS.Timeout | undefined;
  return {
    activity() {
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => {
          timer = undefined;
          collectTimes(collect, COLLECTIONS);
        }, quietMs);
        timer.unref();
      }
    },
    close() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * V8's `gc()` without starting node with `--expose-gc` (which NODE_OPTIONS does not accept):
 * the flag is set at run time and the function taken from a fresh context, where V8 installs it.
 */
function fullGc(): () => void {
  let gc: (() => void) | undefined;
  return () => {
    if (!gc) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
    gc();
  };
}
