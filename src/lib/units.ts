/**
 * Human units for what an operator reads at 3 a.m.: bytes as KB/MB/GB (binary, like Postgres'
 * pg_size_pretty), durations as "42m" or "1h 05m", ages as "3m ago". Pure, unit-tested.
 */

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  const sign = bytes < 0 ? '-' : '';
  let v = Math.abs(bytes);
  if (v < 1024) return `${sign}${v} B`;
  for (const unit of ['KB', 'MB', 'GB', 'TB']) {
    v /= 1024;
    if (v < 1024 || unit === 'TB') return `${sign}${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
  }
  return `${sign}${v} TB`;
}

/** "0s", "45s", "3m 20s", "42m", "1h 05m", "2d 3h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
  if (m < 60) return `${Math.round(s / 60)}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "3m ago" for a time in the past; "never" when there is none. */
export function formatAgo(at: Date | string | null | undefined, now: Date = new Date()): string {
  if (at === null || at === undefined) return 'never';
  const t = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(t.getTime())) return 'never';
  const ms = now.getTime() - t.getTime();
  return ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return Math.round(n).toLocaleString('en-US');
}
