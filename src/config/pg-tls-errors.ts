import { pgConnection, type PgConnection, type PgTarget } from './pg-connection.js';
import { verification } from './pg-tls.js';
import type { Config } from './schema.js';

/**
 * A failed Postgres connection explained in terms of the TLS settings: which setting to change
 * and how (pure). Used by doctor's TLS line, by every command's error output and by the
 * daemon's reconnect log line.
 */

export function hostOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).hostname).replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
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
  const e = err as {
    code?: string;
    message?: string;
    host?: string;
    reason?: string;
    cert?: { subjectaltname?: string; subject?: { CN?: string } };
  };
  const code = e?.code ?? '';
  const host = hostOf(c.url);
  const rootCert =
    c.tls.rootCert === 'system'
      ? "this host's trusted CAs (sslrootcert=system)"
      : `sslrootcert ${c.tls.rootCert} (${c.tls.origin.rootCert})`;
  const v = verification(c.tls);
  if (CHAIN_CODES.has(code) && v.chain) {
    return {
      detail: `the server certificate of ${host} is not signed by a CA in ${rootCert} (${code})`,
      fix: `set ${c.tls.origin.rootCert ?? `${c.where}.tls.rootCert`} to the CA certificate that signed the server's certificate (managed Postgres: the provider's CA bundle); verification stays on`,
    };
  }
  if ((code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') && v.chain) {
    return {
      detail: `the server certificate of ${host} is outside its validity period (${code})`,
      fix: "have the DBA renew the server certificate (or correct this host's clock)",
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' && v.host) {
    const names = e.cert?.subjectaltname ?? (e.cert?.subject?.CN ? `CN=${e.cert.subject.CN}` : 'no names');
    return {
      detail: `the server certificate is not for the host ${e.host ?? host}: it names ${names}`,
      fix: `connect with a host name the certificate carries (the host in ${c.where}.url), or have the DBA issue a certificate that names ${e.host ?? host}; sslmode=verify-ca checks the CA but not the name`,
    };
  }
  if (/does not support SSL/i.test(e?.message ?? '') && c.tls.mode !== 'disable') {
    return {
      detail: `${host} does not accept TLS connections, but ${c.tls.origin.mode} asks for sslmode=${c.tls.mode}`,
      fix: 'enable ssl on the server (ssl = on, with ssl_cert_file and ssl_key_file), or set sslmode=disable if the network is trusted',
    };
  }
  if (code === '28000' && /no encryption/.test(e?.message ?? '') && c.tls.mode === 'disable') {
    return {
      detail: `the server refuses unencrypted connections (pg_hba.conf has no entry without TLS for this host): ${e.message}`,
      fix: `set sslmode=verify-full and sslrootcert in ${c.where}.url (or ${c.where}.tls.mode and ${c.where}.tls.rootCert)`,
    };
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
