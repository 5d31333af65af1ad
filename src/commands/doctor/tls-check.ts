import { TLSSocket } from 'node:tls';
import type pg from 'pg';
import type { PgConnection } from '../../config/pg-connection.js';
import { hostOf } from '../../config/pg-tls-errors.js';
import { verification } from '../../config/pg-tls.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/**
 * The TLS line of doctor for one Postgres connection: encrypted or not, the protocol version,
 * whether the server certificate was verified (a failed connection is explained by
 * config/pg-tls-errors.ts). The verdicts are pure; only `readTlsFacts` looks at a live connection.
 */

export interface TlsFacts {
  encrypted: boolean;
  /** e.g. TLSv1.3 */
  protocol?: string;
  /** The certificate chain was verified against the CA (Node's `authorized`). */
  authorized: boolean;
}

/** What the client's socket says (node-postgres keeps it as `connection.stream`). */
export function readTlsFacts(client: pg.Client): TlsFacts {
  const stream = (client as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  if (!(stream instanceof TLSSocket)) return { encrypted: false, authorized: false };
  return { encrypted: true, protocol: stream.getProtocol() ?? undefined, authorized: stream.authorized };
}

export const tlsCheckName = (what: string) => `TLS to ${what}`;

const LOCAL = /^(localhost|127\.\d+\.\d+\.\d+|::1|\/.*)?$/;

/** The verdict on a connection that was made. Fails when verification was asked for and did not happen. */
export function judgeTls(what: string, c: PgConnection, f: TlsFacts): CheckResult {
  const name = tlsCheckName(what);
  const v = verification(c.tls);
  const mode = `sslmode=${c.tls.mode}`;
  if (!f.encrypted) {
    if (c.tls.mode !== 'disable') return fail(name, `not encrypted, although ${mode} asks for TLS`, `check ${c.tls.origin.mode}`);
    const host = hostOf(c.url);
    if (LOCAL.test(host)) return pass(name, `not encrypted (${mode}; ${host || 'local socket'} is this host)`);
    return warn(
      name,
      `not encrypted (${mode}): passwords and customer data cross the network in clear`,
      `set sslmode=verify-full and sslrootcert in ${c.where}.url (or ${c.where}.tls.mode and ${c.where}.tls.rootCert)`,
    );
  }
  const proto = f.protocol ?? 'TLS';
  if (v.chain && !f.authorized)
    return fail(
      name,
      `encrypted (${proto}) but the server certificate was NOT verified, although ${mode} asks for it`,
      `check ${c.tls.origin.rootCert ?? c.tls.origin.mode}`,
    );
  if (!v.chain) {
    return warn(
      name,
      `encrypted (${proto}); server certificate not verified (${mode})`,
      `to verify the server, set sslmode=verify-full and sslrootcert to its CA certificate (${c.where}.tls.mode, ${c.where}.tls.rootCert)`,
    );
  }
  const against = c.tls.rootCert === 'system' ? "this host's trusted CAs" : c.tls.rootCert;
  const hostPart = v.host ? `, host name ${hostOf(c.url)} matches` : ', host name not checked';
  return pass(name, `encrypted (${proto}); server certificate verified against ${against}${hostPart} (${mode})`);
}

export { explainTlsFailure, explainTlsFailureIn } from '../../config/pg-tls-errors.js';
