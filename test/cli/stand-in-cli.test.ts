/**
 * `carecycle-sync stand-in` with the options that make it answer the way the real API might:
 * each one, started from the command line, shows in the answers it gives.
 */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliArgs } from '../harness/cli-bundle.js';

const ROOT = resolve(import.meta.dirname, '../..');
const KEY = 'cc_standin_cli_key';

async function withStandIn(args: string[], fn: (url: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, cliArgs('stand-in', '--port', '0', '--api-key', KEY, ...args), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`stand-in exited with ${code}`)));
    });
    await fn(url);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const rec = (externalId: string) => ({ firstName: 'Ada', lastName: 'L', phoneNumber: '5551234567', postalCode: '60601', externalId });
async function post(url: string, ids: string[]): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v2/sync/aca`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ records: ids.map(rec) }),
  });
  return { status: res.status, text: await res.text() };
}

describe('stand-in options from the command line', () => {
  it('answer shapes, id-only errors, disagreeing counts', async () => {
    await withStandIn(
      ['--answer-shape', 'legacy', '--error-items', 'id-only', '--counts-disagree', '--record-error', 'b', '--record-error', 'c'],
      async (url) => {
        const body = JSON.parse((await post(url, ['a', 'b', 'c'])).text);
        expect(body).toEqual({ succeeded: 3, failed: 2, errors: [{ id: null }] });
      },
    );
    await withStandIn(['--answer-shape', 'drifted', '--record-error', 'b'], async (url) => {
      const body = JSON.parse((await post(url, ['a', 'b'])).text);
      expect(body.succeeded).toBeUndefined();
      expect(body.errors[0]).toMatchObject({ externalId: 'b', message: 'Record rejected by stand-in' });
      expect(body.errors[0].error).toBeUndefined();
      expect(body.results[0].policies).toEqual([]);
      expect(body.requestId).toBeDefined();
    });
  });

  it('an HTML page from a proxy, a poison externalId, a drop after storing', async () => {
    await withStandIn(
      ['--proxy-html', '1', '--proxy-status', '403', '--poison', 'p', '--drop', '1', '--drop-after-processing'],
      async (url) => {
        const page = await post(url, ['a']);
        expect(page.status).toBe(403);
        expect(page.text).toMatch(/^<html>/);
        await expect(post(url, ['a'])).rejects.toThrow();
        expect((await post(url, ['x', 'p'])).status).toBe(500);
        expect((await post(url, ['a'])).status).toBe(200);
      },
    );
  });

  it('refuses an unknown answer shape with exit code 2', async () => {
    const code = await new Promise<number | null>((done) =>
      execFile(process.execPath, cliArgs('stand-in', '--api-key', KEY, '--answer-shape', 'weird'), { cwd: ROOT }, (err) =>
        done(err ? (err.code as number) : 0),
      ),
    );
    expect(code).toBe(2);
  });
});
