import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { answeringDocker, dockerEndpoint, pingDocker } from './docker-probe.js';

const dir = mkdtempSync(join(tmpdir(), 'ccs-docker-'));
const servers: Array<{ close: () => void }> = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function listen<T extends Server>(server: T, socketPath: string): Promise<T> {
  servers.push(server);
  return new Promise((r) => server.listen(socketPath, () => r(server)));
}

describe('Docker probe', () => {
  it('gives up within its deadline on a socket that accepts and never answers (testcontainers would hang)', async () => {
    const socketPath = join(dir, 'silent.sock');
    await listen(
      createServer(() => undefined),
      socketPath,
    );
    const started = Date.now();
    expect(await pingDocker({ label: socketPath, options: { socketPath }, tls: false }, 300)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('accepts an engine answering GET /_ping with OK, and nothing else', async () => {
    const ok = join(dir, 'ok.sock');
    const broken = join(dir, 'broken.sock');
    const paths: string[] = [];
    await listen(
      createHttpServer((req, res) => (paths.push(req.url ?? ''), res.end('OK'))),
      ok,
    );
    await listen(
      createHttpServer((_req, res) => ((res.statusCode = 500), res.end('oops'))),
      broken,
    );
    expect(await answeringDocker({ DOCKER_HOST: `unix://${ok}` })).toMatchObject({ label: ok });
    expect(paths).toEqual(['/_ping']);
    expect(await answeringDocker({ DOCKER_HOST: `unix://${broken}` })).toBeUndefined();
    expect(await answeringDocker({ DOCKER_HOST: `unix://${ok}`, PG_TEST_DOCKER: '0' })).toBeUndefined();
    expect(await answeringDocker({ DOCKER_HOST: `unix://${join(dir, 'absent.sock')}` })).toBeUndefined();
  });

  it('reads DOCKER_HOST forms', () => {
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({ label: '10.0.0.5:2375', tls: false });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir })).toMatchObject({
      label: '10.0.0.5:2376',
      tls: true,
    });
    expect(dockerEndpoint({ DOCKER_HOST: 'ssh://user@host' })).toBeUndefined();
  });
});
