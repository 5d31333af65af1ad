import { readFileSync } from 'node:fs';

/**
 * The footprint of another process, read from /proc (Linux only): resident memory now and CPU
 * time used so far, all threads together. Reading /proc costs the watched process nothing.
 */
const TICKS_PER_SECOND = 100; // USER_HZ

/** Resident set size of `pid` in bytes (VmRSS), undefined when it is gone or not on Linux. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms (user + system, every thread) used by `pid` since it started. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface Footprint {
  /** Highest RSS seen by the samples, bytes. */
  peakRssBytes: number;
  /** CPU time over the window divided by its wall time: 0.01 is 1 % of one core. */
  cpuShare: number;
  /** Wall time of the window, ms. */
  wallMs: number;
  samples: number;
}

/**
 * Watches `pid` for `durationMs`: RSS every `sampleMs`, CPU from the first to the last reading.
 * Rejects when the process goes away meanwhile.
 */
export async function watchFootprint(pid: number, durationMs: number, sampleMs = 250): Promise<Footprint> {
  const cpu0 = cpuMsOf(pid);
  const t0 = performance.now();
  if (cpu0 === undefined) throw new Error(`process ${pid} cannot be read in /proc (gone, or not Linux)`);
  let peak = 0;
  let samples = 0;
  for (;;) {
    const rss = rssBytes(pid);
    if (rss === undefined) throw new Error(`process ${pid} went away while it was watched`);
    peak = Math.max(peak, rss);
    samples++;
    if (performance.now() - t0 >= durationMs) break;
    await new Promise((r) => setTimeout(r, Math.min(sampleMs, Math.max(1, durationMs - (performance.now() - t0)))));
  }
  const cpu1 = cpuMsOf(pid)!;
  const wallMs = performance.now() - t0;
  return { peakRssBytes: peak, cpuShare: (cpu1 - cpu0) / wallMs, wallMs, samples };
}

/** `idle: RSS 64 MB, CPU 0.12 % of a core` (MB = 2^20 bytes). */
export function footprintLine(label: string, f: Footprint): string {
  return `${label}: RSS ${Math.round(f.peakRssBytes / 2 ** 20)} MB, CPU ${(f.cpuShare * 100).toFixed(2)} % of a core`;
}
