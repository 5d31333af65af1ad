import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';

/**
 * A small HTTP proxy for tests that logs what passes through it: CONNECT tunnels, and plain
 * forward requests answered 501 (nothing here sends them). `routes` maps `host:port` to a local
 * port, so a name that does not resolve (api.carecycle.test) still reaches a test server: the
 * proxy is the only party that "resolves" it. An optional `auth` demands Proxy-Authorization.
 */
export interface LoggedRequest {
  method: string;
  target: string;
  auth?: string;
}

export interface TestProxy {
  readonly url: string;
  readonly log: LoggedRequest[];
  close(): Promise<void>;
}

export async function startConnectProxy(routes: Record<string, number>, opts: { auth?: string } = {}): Promise<TestProxy> {
  const log: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    log.push({ method: req.method ?? '', target: req.url ?? '', ...authOf(req) });
    res.writeHead(501).end('forward requests are not supported by this test proxy');
  });
  server.on('connect', (req: IncomingMessage, client: Socket) => {
    const target = req.url ?? '';
    log.push({ method: 'CONNECT', target, ...authOf(req) });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (opts.auth && req.headers['proxy-authorization'] !== `Basic ${Buffer.from(opts.auth).toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
      return;
    }
    const port = routes[target];
    if (port === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function authOf(req: IncomingMessage): { auth?: string } {
  const h = req.headers['proxy-authorization'];
  return typeof h === 'string' ? { auth: h } : {};
}

/** A TLS front for a plain local server (the stand-in): terminates TLS with `cert`, pipes to `port`. */
export async function startTlsFront(port: number, pem: { cert: string; key: string }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TlsServer = createTlsServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, (tlsSocket) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [tlsSocket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    tlsSocket.pipe(upstream).pipe(tlsSocket);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
