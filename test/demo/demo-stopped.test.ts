import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliArgs } from '../harness/cli-bundle.js';

/**
 * The demo removes its throwaway Postgres however it is stopped and wherever its output goes.
 * `npm start | tee demo.log` then Ctrl-C: the terminal's SIGINT reaches `tee` too, so the pipe
 * is closed before the demo prints its "stopping…" line; that write fails with EPIPE. A demo
 * killed outright (SIGKILL, the OOM killer) cannot clean up itself at all.
 */
const ROOT = resolve(import.meta.dirname, '../..');

const processesWith = (needle: string) =>
  execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'));

let child: ChildProcess | undefined;
let tempDir: string | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (tempDir && existsSync(tempDir)) {
    for (const l of processesWith(`${tempDir}/data`)) process.kill(Number(l.trim().split(/\s+/)[0]), 'SIGQUIT');
    rmSync(tempDir, { recursive: true, force: true });
  }
  child = tempDir = undefined;
});

/** Starts the demo with its stdout on a pipe; resolves with its temp dir once streaming. */
async function startDemo(): Promise<{
  child: ChildProcess;
  dir: string;
  stderr: () => string;
  exited: (ms: number) => Promise<Exit | 'timeout'>;
}> {
  const c = spawn(process.execPath, cliArgs('demo', '--customers', '30', '--rpm', '6000', '--rate', '5'), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  const exit = new Promise<Exit>((r) => c.once('exit', (code, signal) => r({ code, signal })));
  const exited = (ms: number) => Promise.race([exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let out = '';
  const dir = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the demo did not start within 60 s:\n${out}\n${err}`)), 60_000);
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /data in (\/\S+)\/data/.exec(out);
      if (m) tempDir = m[1];
      if (tempDir && /live changes: /.test(out)) {
        clearTimeout(timer);
        done(tempDir);
      }
    });
    c.once('exit', (code) => fail(new Error(`the demo exited (${code}) before it started:\n${out}\n${err}`)));
  });
  return { child: c, dir, stderr: () => err, exited };
}

interface Exit {
  code: number | null;
  signal: string | null;
}

async function gone(dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!existsSync(dir) && processesWith(`${dir}/data`).length === 0) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('the demo cleans up however it is stopped', () => {
  it('removes Postgres and its directory when its output pipe closed before the Ctrl-C (npm start | tee)', async () => {
    const { child: c, dir, stderr, exited } = await startDemo();
    expect(existsSync(dir)).toBe(true);
    // What `tee` does on Ctrl-C: its end of the pipe goes away first; then the demo gets SIGINT.
    c.stdout!.destroy();
    await new Promise((r) => setTimeout(r, 300));
    c.kill('SIGINT');
    const exit = await exited(20_000);
    expect(exit, `the demo exits; stderr:\n${stderr()}`).not.toBe('timeout');
    // Exit 0; or, when the demo had already cleaned up and was exiting as the Ctrl-C came
    // (the closed pipe stopped it first), the default end by SIGINT.
    expect([JSON.stringify({ code: 0, signal: null }), JSON.stringify({ code: null, signal: 'SIGINT' })]).toContain(JSON.stringify(exit));
    expect(await gone(dir, 2000), `${dir} and its postgres are gone; stderr:\n${stderr()}`).toBe(true);
  }, 90_000);

  it('stops and removes everything when Ctrl-C comes the moment it starts streaming', async () => {
    // The daemon is then still taking the slot lock and reading its start position.
    const { child: c, dir, stderr, exited } = await startDemo();
    c.kill('SIGINT');
    const exit = await exited(20_000);
    expect(exit, `the demo exits; stderr:\n${stderr()}`).toEqual({ code: 0, signal: null });
    expect(await gone(dir, 2000), `${dir} and its postgres are gone`).toBe(true);
  }, 90_000);

  it('removes Postgres and its directory when the demo itself is killed (SIGKILL)', async () => {
    const { child: c, dir, exited } = await startDemo();
    c.kill('SIGKILL');
    await exited(5000);
    expect(await gone(dir, 15_000), `${dir} and its postgres are gone after the demo was killed`).toBe(true);
  }, 90_000);
});
