import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU time of processes, from /proc (Linux; elsewhere every figure is undefined), so a bench can
 * say where the cores went: ours, the stand-in's, Postgres's.
 */
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI Node runs on

interface ProcStat {
  ppid: number;
  cpuMs: number;
}

function stat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may itself hold spaces and parens).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(f[1]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** CPU ms used so far by `pid` (its own threads, not its children). */
export function processCpuMs(pid: number): number | undefined {
  return stat(pid)?.cpuMs;
}

/**
 * CPU ms used so far by the Postgres server of `dataDir`: the postmaster and its backends that
 * are alive now (a backend that exited took its time with it; the bench's connections stay open).
 */
export function postgresCpuMs(dataDir: string): number | undefined {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  let total = stat(postmaster)?.cpuMs;
  if (total === undefined) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s?.ppid === postmaster) total += s.cpuMs;
  }
  return total;
}

/** Snapshot of the three CPU meters; `since` gives µs per unit of work for each. */
export function cpuMeter(parts: { standInPid?: number; dataDir?: string }) {
  const read = () => ({
    daemon: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    standIn: parts.standInPid === undefined ? undefined : processCpuMs(parts.standInPid),
    postgres: parts.dataDir === undefined ? undefined : postgresCpuMs(parts.dataDir),
  });
  const start = read();
  return {
    /** `daemon 180 µs, stand-in 90 µs, Postgres 60 µs per <unit>` for `count` units of work. */
    report(count: number, unit: string): string {
      const end = read();
      const per = (a: number | undefined, b: number | undefined) =>
        a === undefined || b === undefined || count === 0 ? 'n/a' : `${Math.round(((b - a) * 1000) / count)} µs`;
      return `CPU per ${unit}: this process ${per(start.daemon, end.daemon)}, stand-in ${per(start.standIn, end.standIn)}, Postgres ${per(start.postgres, end.postgres)}`;
    },
  };
}
