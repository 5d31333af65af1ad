import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../harness/cli-bundle.js';

/**
 * `carecycle-sync demo` as a user runs it (a child process, stdout not a terminal): it starts
 * its own Postgres, so this is a unit-project test that runs once, not once per major.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const CUSTOMERS = 200;

interface Seen {
  lines: string[];
  tempDir?: string;
  ports: { name: string; port: number }[];
}

function figures(line: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

function watch(child: ChildProcess): Seen {
  const seen: Seen = { lines: [], ports: [] };
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const line of parts) {
      seen.lines.push(line);
      const dir = /data in (\/\S+)\/data/.exec(line);
      if (dir) seen.tempDir = dir[1];
      const pg = /on 127\.0\.0\.1:(\d+), data in/.exec(line);
      if (pg) seen.ports.push({ name: 'postgres', port: Number(pg[1]) });
      const si = /stand-in: http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (si) seen.ports.push({ name: 'stand-in', port: Number(si[1]) });
      const m = /metrics: http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) seen.ports.push({ name: 'metrics', port: Number(m[1]) });
    }
  });
  return seen;
}

async function until<T>(what: string, fn: () => T | undefined, ms: number, seen: Seen): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; demo printed:\n${seen.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });

/** Command lines of running processes that mention `needle` (our own `ps` excluded). */
function processesWith(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args=']).toString();
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

let child: ChildProcess | undefined;
let seenDir: string | undefined;
afterAll(() => {
  // Only if the test failed half-way: leave nothing behind on the machine either.
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (seenDir && existsSync(seenDir)) rmSync(seenDir, { recursive: true, force: true });
});

describe('carecycle-sync demo', () => {
  it('delivers the backfill and live changes to the stand-in and exits cleanly on SIGINT with nothing left behind', async () => {
    child = spawn(process.execPath, cliArgs('demo', '--customers', String(CUSTOMERS), '--rpm', '6000', '--rate', '20'), {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const seen = watch(child);

    // Backfill done (every seeded customer, and customers inserted live, are at the stand-in),
    // live updates re-sent (more deliveries than customers), bad rows dead-lettered.
    const live = await until(
      'the backfill and live changes at the stand-in',
      () => {
        const last = seen.lines
          .filter((l) => l.startsWith('demo t='))
          .map(figures)
          .at(-1);
        return last && last.standin_customers! > CUSTOMERS && last.delivered! > last.standin_customers! && last.dead_lettered! > 0
          ? last
          : undefined;
      },
      90_000,
      seen,
    );
    // Every seeded customer that was not soft-deleted reached the stand-in (it forgets none), and
    // the backfill enqueued about the seed (live inserts and soft deletes race with its scan).
    expect(live.standin_customers).toBeGreaterThanOrEqual(CUSTOMERS - live.soft_deletes!);
    expect(live.backfill_enqueued).toBeGreaterThanOrEqual(CUSTOMERS - live.soft_deletes!);
    seenDir = seen.tempDir;
    expect(seen.tempDir).toMatch(/^\/tmp\/ccs-pg-/);
    expect(existsSync(seen.tempDir!)).toBe(true);
    expect(processesWith(`${seen.tempDir}/data`)).not.toEqual([]);
    expect(seen.ports.map((p) => p.name).sort()).toEqual(['metrics', 'postgres', 'stand-in']);
    // The demo's database says the same: every seeded customer still in the CRM was delivered.
    const db = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${seen.ports.find((p) => p.name === 'postgres')!.port}/crm`,
    });
    await db.connect();
    const missing = await db.query(
      `SELECT count(*)::int AS n FROM customers c WHERE c.id <= $1 AND c.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM carecycle_sync.sent s WHERE s.customer_key = c.id::text)`,
      [CUSTOMERS],
    );
    await db.end();
    expect(missing.rows[0].n).toBe(0);

    const exited = new Promise<number | null>((done) => child!.once('exit', (code) => done(code)));
    const sentAt = Date.now();
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    expect(code, `exit within 10 s; stderr:\n${stderr}`).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);

    expect(existsSync(seen.tempDir!)).toBe(false);
    expect(processesWith(`${seen.tempDir}/data`)).toEqual([]);
    for (const p of seen.ports) expect(await portOpen(p.port), `${p.name} port ${p.port} still open`).toBe(false);
    // The final summary is printed after the drain, and reports at least what was seen live.
    const final = figures(seen.lines.filter((l) => l.startsWith('demo t=')).at(-1)!);
    expect(final.standin_customers).toBeGreaterThanOrEqual(live.standin_customers!);
    expect(seen.lines.some((l) => /^demo stopped: .* removed$/.test(l))).toBe(true);
    // The API key the demo made up never reaches the output.
    expect(`${seen.lines.join('\n')}\n${stderr}`).not.toMatch(/cc_demo_[0-9a-f]{8}/);
  }, 120_000);
});
