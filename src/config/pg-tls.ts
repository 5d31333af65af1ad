import type { ConnectionOptions } from 'node:tls';

/**
 * TLS to Postgres with libpq's meaning of `sslmode` (docs/postgres-tls.md). node-postgres reads
 * `sslmode=require` in a URL as "verify everything" unless `uselibpqcompat=true`, and a URL's
 * ssl parameters replace any `ssl` object passed beside it; so the ssl parameters are taken out
 * of the URL here, merged with the `tls` config keys, and turned into one explicit `ssl` value.
 * Pure: file contents come in through `read`.
 */

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The `source.tls` / `state.tls` config keys. */
export interface TlsKeys {
  mode?: SslMode | undefined;
  rootCert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  keyPassword?: string | undefined;
}

/** Where each setting came from, for messages: `source.tls.rootCert` or `sslrootcert in source.url`. */
export interface TlsSettings {
  mode: SslMode;
  /** A file path, or `system` for the trusted CAs of Node (with NODE_EXTRA_CA_CERTS). */
  rootCert?: string;
  cert?: string;
  key?: string;
  keyPassword?: string;
  /** Human name of the setting that gave each value (`sslrootcert` or `source.tls.rootCert`). */
  origin: { mode: string; rootCert?: string; cert?: string; key?: string };
}

export interface ResolvedTls {
  /** The URL without its ssl parameters (so node-postgres cannot reinterpret them). */
  url: string;
  tls: TlsSettings;
  /** Problems, each starting with the key path; empty when valid. */
  problems: string[];
  /** Secret values found in the URL's parameters (sslpassword). */
  secrets: string[];
}

const URL_PARAM: Record<string, keyof TlsKeys> = {
  sslmode: 'mode',
  sslrootcert: 'rootCert',
  sslcert: 'cert',
  sslkey: 'key',
  sslpassword: 'keyPassword',
};
/** node-postgres-only parameters that would override the ssl object we pass. */
const FOREIGN = [
  'ssl',
  'uselibpqcompat',
  'sslnegotiation',
  'sslcrl',
  'sslcompression',
  'sslsni',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
];

const VERIFY_FIX =
  'set sslrootcert (or the tls.rootCert key) to the CA certificate file that signed the server certificate, or to "system" for the CAs this host trusts';

/**
 * Splits `url` into the plain connection URL and TLS settings merged with `keys`.
 * `where` is the key path prefix of the connection (`source` or `state`).
 */
export function resolveTls(url: string, keys: TlsKeys | undefined, where: string): ResolvedTls {
  const problems: string[] = [];
  const secrets: string[] = [];
  const fromUrl: TlsKeys = {};
  let plain = url;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined; // not a URL: node-postgres reports that itself when connecting
  }
  if (parsed) {
    for (const [name, field] of Object.entries(URL_PARAM)) {
      const v = parsed.searchParams.get(name);
      if (v === null) continue;
      (fromUrl as Record<string, string>)[field] = v;
      if (field === 'keyPassword') secrets.push(v);
      parsed.searchParams.delete(name);
    }
    for (const name of FOREIGN) {
      if (!parsed.searchParams.has(name)) continue;
      problems.push(
        `${where}.url: the parameter ${name}=${JSON.stringify(parsed.searchParams.get(name))} is not supported; write sslmode=disable|require|verify-ca|verify-full (with sslrootcert) instead`,
      );
      parsed.searchParams.delete(name);
    }
    // Untouched unless a parameter was taken out: re-serialising could re-encode a password.
    if (parsed.search !== new URL(url).search) plain = parsed.toString();
  }
  const tls = merge(fromUrl, keys ?? {}, where, problems);
  problems.push(...consistency(tls, where));
  return { url: plain, tls, problems, secrets };
}

function merge(fromUrl: TlsKeys, keys: TlsKeys, where: string, problems: string[]): TlsSettings {
  const origin: TlsSettings['origin'] = { mode: 'the default (sslmode=disable)' };
  const out: Partial<TlsSettings> = {};
  for (const field of ['mode', 'rootCert', 'cert', 'key', 'keyPassword'] as const) {
    const a = fromUrl[field];
    const b = keys[field];
    const param = Object.keys(URL_PARAM).find((p) => URL_PARAM[p] === field)!;
    if (a !== undefined && b !== undefined && a !== b) {
      const shown = field === 'keyPassword' ? '' : ` (${JSON.stringify(a)} and ${JSON.stringify(b)})`;
      problems.push(`${where}.tls.${field}: conflicts with ${param} in ${where}.url${shown}; set it in one place`);
    }
    const v = a ?? b;
    if (v === undefined) continue;
    (out as Record<string, string>)[field] = v;
    if (field !== 'keyPassword') origin[field] = a !== undefined ? `${param} in ${where}.url` : `${where}.tls.${field}`;
  }
  const mode = (out.mode ?? 'disable') as string;
  if (mode === 'prefer' || mode === 'allow') {
    problems.push(
      `${origin.mode}: sslmode=${mode} is not supported: it falls back to an unencrypted connection without saying so; use require (encrypted) or verify-full (encrypted, server verified), or disable`,
    );
  } else if (!(SSL_MODES as readonly string[]).includes(mode)) {
    problems.push(`${origin.mode}: unknown sslmode ${JSON.stringify(mode)}; expected one of: ${SSL_MODES.join(', ')}`);
  }
  return { ...out, mode: (SSL_MODES as readonly string[]).includes(mode) ? (mode as SslMode) : 'verify-full', origin } as TlsSettings;
}

function consistency(t: TlsSettings, where: string): string[] {
  const out: string[] = [];
  if ((t.mode === 'verify-ca' || t.mode === 'verify-full') && !t.rootCert) {
    out.push(`${t.origin.mode}: sslmode=${t.mode} needs sslrootcert: ${VERIFY_FIX}`);
  }
  if (t.rootCert === 'system' && t.mode !== 'verify-full' && t.mode !== 'disable') {
    out.push(
      `${t.origin.rootCert}: sslrootcert=system needs sslmode=verify-full (any server with a certificate from a public CA would pass verify-ca)`,
    );
  }
  if ((t.cert === undefined) !== (t.key === undefined)) {
    out.push(
      `${t.cert === undefined ? t.origin.key : t.origin.cert}: a client certificate needs both sslcert and sslkey (${where}.tls.cert and ${where}.tls.key)`,
    );
  }
  if (t.mode === 'disable' && (t.rootCert || t.cert)) {
    out.push(
      `${t.origin.rootCert ?? t.origin.cert}: given, but TLS is off (sslmode=disable); set sslmode (or ${where}.tls.mode) to verify-full, verify-ca or require`,
    );
  }
  return out;
}

/** Whether the server certificate's chain is checked, and whether its host name is. */
export function verification(t: TlsSettings): { chain: boolean; host: boolean } {
  if (t.mode === 'verify-full') return { chain: true, host: true };
  // libpq: require with a root certificate given behaves as verify-ca.
  if (t.mode === 'verify-ca' || (t.mode === 'require' && t.rootCert !== undefined)) return { chain: true, host: false };
  return { chain: false, host: false };
}

export interface TlsFiles {
  rootCert?: string;
  cert?: string;
  key?: string;
}

/** The `ssl` value for node-postgres: always explicit, so PGSSLMODE and URL rules never apply. */
export function sslOption(t: TlsSettings, files: TlsFiles): false | ConnectionOptions {
  if (t.mode === 'disable') return false;
  const v = verification(t);
  const opts: ConnectionOptions = { rejectUnauthorized: v.chain };
  if (v.chain && t.rootCert !== 'system' && files.rootCert !== undefined) opts.ca = files.rootCert;
  if (v.chain && !v.host) opts.checkServerIdentity = () => undefined;
  if (files.cert !== undefined && files.key !== undefined) {
    opts.cert = files.cert;
    opts.key = files.key;
    if (t.keyPassword !== undefined) opts.passphrase = t.keyPassword;
  }
  return opts;
}
