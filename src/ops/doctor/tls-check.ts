import { TLSSocket } from 'node:tls';
import type pg from 'pg';
import { pgConnection, type PgConnection, type PgTarget } from '../../config/pg-connection.js';
import type { Config } from '../../config/schema.js';
import { verification } from '../../config/pg-tls.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/**
 * The TLS line of doctor for one Postgres connection: encrypted or not, the protocol version,
 * whether the server certificate was verified; and, when connecting failed in TLS, what the
 * failure means and which setting to change. The verdicts are pure; only `readTlsFacts` looks
 * at a live connection.
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

function hostOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).hostname).replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}

/** The verdict on a connection that was made. Fails when verification was asked for and did not happen. */
export function judgeTls(what: string, c: PgConnection, f: TlsFacts): CheckResult {
  const name = tlsCheckName(what);
  const v = verification(c.tls);
  const mode = `sslmode=${c.tls.mode}`;
  if (!f.encrypted) {
    if (c.tls.mode !== 'disable') return fail(name, `not encrypted, although ${mode} asks for TLS`, `check ${c.tls.origin.mode}`);
    const host = hostOf(c.url);
    if (LOCAL.test(host)) return pass(name, `not encrypted (${mode}; ${host || 'local socket'} is this host)`);
    return warn(name, `not encrypted (${mode}): passwords and customer data cross the network in clear`, `set sslmode=verify-full and sslrootcert in ${c.where}.url (or ${c.where}.tls.mode and ${c.where}.tls.rootCert)`);
  }
  const proto = f.protocol ?? 'TLS';
  if (v.chain && !f.authorized) return fail(name, `encrypted (${proto}) but the server certificate was NOT verified, although ${mode} asks for it`, `check ${c.tls.origin.rootCert ?? c.tls.origin.mode}`);
  if (!v.chain) {
    return warn(name, `encrypted (${proto}); server certificate not verified (${mode})`, `to verify the server, set sslmode=verify-full and sslrootcert to its CA certificate (${c.where}.tls.mode, ${c.where}.tls.rootCert)`);
  }
  const against = c.tls.rootCert === 'system' ? "this host's trusted CAs" : c.tls.rootCert;
  const hostPart = v.host ? `, host name ${hostOf(c.url)} matches` : ', host name not checked';
  return pass(name, `encrypted (${proto}); server certificate verified against ${against}${hostPart} (${mode})`);
}

const CHAIN_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A failed connection explained in terms of the TLS settings, or undefined when the failure is
 * not about TLS. Node's TLS errors are classified by their `code`; node-postgres gives no code
 * for a server without TLS, so that one is recognised by its message.
 */
export function explainTlsFailure(err: unknown, c: PgConnection): { detail: string; fix: string } | undefined {
  const e = err as { code?: string; message?: string; host?: string; reason?: string; cert?: { subjectaltname?: string; subject?: { CN?: string } } };
  const code = e?.code ?? '';
  const host = hostOf(c.url);
  const rootCert = c.tls.rootCert === 'system' ? "this host's trusted CAs (sslrootcert=system)" : `sslrootcert ${c.tls.rootCert} (${c.tls.origin.rootCert})`;
  const v = verification(c.tls);
  if (CHAIN_CODES.has(code) && v.chain) {
    return {
      detail: `the server certificate of ${host} is not signed by a CA in ${rootCert} (${code})`,
      fix: `set ${c.tls.origin.rootCert ?? `${c.where}.tls.rootCert`} to the CA certificate that signed the server's certificate (managed Postgres: the provider's CA bundle); verification stays on`,
    };
  }
  if ((code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') && v.chain) {
    return { detail: `the server certificate of ${host} is outside its validity period (${code})`, fix: 'have the DBA renew the server certificate (or correct this host\'s clock)' };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' && v.host) {
    const names = e.cert?.subjectaltname ?? (e.cert?.subject?.CN ? `CN=${e.cert.subject.CN}` : 'no names');
    return {
      detail: `the server certificate is not for the host ${e.host ?? host}: it names ${names}`,
      fix: `connect with a host name the certificate carries (the host in ${c.where}.url), or have the DBA issue a certificate that names ${e.host ?? host}; sslmode=verify-ca checks the CA but not the name`,
    };
  }
  if (/does not support SSL/i.test(e?.message ?? '') && c.tls.mode !== 'disable') {
    return { detail: `${host} does not accept TLS connections, but ${c.tls.origin.mode} asks for sslmode=${c.tls.mode}`, fix: 'enable ssl on the server (ssl = on, with ssl_cert_file and ssl_key_file), or set sslmode=disable if the network is trusted' };
  }
  if (code === '28000' && /no encryption/.test(e?.message ?? '') && c.tls.mode === 'disable') {
    return { detail: `the server refuses unencrypted connections (pg_hba.conf has no entry without TLS for this host): ${e.message}`, fix: `set sslmode=verify-full and sslrootcert in ${c.where}.url (or ${c.where}.tls.mode and ${c.where}.tls.rootCert)` };
  }
  return undefined;
}

/**
 * The same explanation for an error from any command, when it is not known which connection
 * failed: the first connection of the config that the error fits (by host name when it has one).
 */
export function explainTlsFailureIn(err: unknown, config: Config): { detail: string; fix: string } | undefined {
  const targets: PgTarget[] = config.state.url === undefined ? ['source'] : ['source', 'state'];
  const host = (err as { host?: string })?.host;
  const conns = targets.map((t) => pgConnection(config, t)).sort((a, b) => Number(hostOf(b.url) === host) - Number(hostOf(a.url) === host));
  for (const c of conns) {
    const found = explainTlsFailure(err, c);
    if (found) return found;
  }
  return undefined;
}
