import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as undici from 'undici';
import { Pool, ProxyAgent } from '../../src/deliver/undici-lean.js';

const run = promisify(execFile);

// src/deliver/undici-lean.ts loads two of undici's modules without its index: they must be the
// very classes the index exports, with the request API the index gives every dispatcher.
describe('undici without its index', () => {
  it('exports the same Pool and ProxyAgent classes as undici itself', () => {
    expect(Pool).toBe(undici.Pool);
    expect(ProxyAgent).toBe(undici.ProxyAgent);
  });

  it('gives a Pool the request API in a process that never loads the index', async () => {
    const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    // Its own process: this test file imported undici's index, which sets the API up itself.
    const script = `
      const { Pool } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/deliver/undici-lean.ts'))});
      const pool = new Pool('http://127.0.0.1:${port}');
      const res = await pool.request({ path: '/v2/sync/aca?x=1', method: 'POST', body: '{}' });
      process.stdout.write(res.statusCode + ' ' + (await res.body.text()));
      await pool.close();`;
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      expect(stdout).toBe('200 POST /v2/sync/aca?x=1');
    } finally {
      server.close();
    }
  });
});
