import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Asks a Docker engine `GET /_ping` with a short deadline before testcontainers is ever touched:
 * testcontainers hangs for minutes on a socket that accepts connections and never answers
 * (docs/testing.md). No endpoint, no answer, or a wrong answer → false.
 */

export interface DockerEndpoint {
  /** What to show the user: the socket path or host:port. */
  label: string;
  options: RequestOptions;
  tls: boolean;
}

/** DOCKER_HOST (unix:// or tcp://, TLS per DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), else the usual sockets. */
export function dockerEndpoint(env: NodeJS.ProcessEnv): DockerEndpoint | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    if (host.startsWith('unix://')) {
      const socketPath = host.slice('unix://'.length);
      return { label: socketPath, options: { socketPath }, tls: false };
    }
    if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      const verify = env.DOCKER_TLS_VERIFY ?? '';
      const tls = host.startsWith('https://') || (verify !== '' && verify !== '0');
      const options: RequestOptions & Record<string, unknown> = { host: u.hostname, port: Number(u.port || (tls ? 2376 : 2375)) };
      const certs = env.DOCKER_CERT_PATH ?? join(homedir(), '.docker');
      if (tls)
        for (const f of ['ca', 'cert', 'key']) if (existsSync(join(certs, `${f}.pem`))) options[f] = readFileSync(join(certs, `${f}.pem`));
      return { label: `${u.hostname}:${options.port}`, options, tls };
    }
    return undefined; // ssh:// and friends: not probed, so not used
  }
  const candidates = ['/var/run/docker.sock'];
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'));
  candidates.push(join(homedir(), '.docker', 'run', 'docker.sock'));
  const socketPath = candidates.find((p) => existsSync(p));
  return socketPath ? { label: socketPath, options: { socketPath }, tls: false } : undefined;
}

/** True when the engine answers `GET /_ping` with 200 "OK" within `timeoutMs`. */
export function pingDocker(ep: DockerEndpoint, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(ok);
    };
    const request = ep.tls ? httpsRequest : httpRequest;
    const req = request({ ...ep.options, path: '/_ping', method: 'GET', headers: { host: 'docker' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => finish(res.statusCode === 200 && body.trim() === 'OK'));
      res.on('error', () => finish(false));
    });
    // The deadline covers connect, headers and body: a silent socket must not hold us.
    const timer = setTimeout(() => finish(false), timeoutMs);
    req.on('error', () => finish(false));
    req.end();
  });
}

/** The endpoint when a Docker engine answers, else undefined (PG_TEST_DOCKER=0 turns Docker off). */
export async function answeringDocker(env: NodeJS.ProcessEnv, timeoutMs = 1500): Promise<DockerEndpoint | undefined> {
  if (env.PG_TEST_DOCKER === '0') return undefined;
  const ep = dockerEndpoint(env);
  if (!ep) return undefined;
  return (await pingDocker(ep, timeoutMs)) ? ep : undefined;
}
