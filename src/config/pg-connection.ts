import { accessSync, constants, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../errors.js';
import type { Config } from './schema.js';
import { resolveTls, sslOption, type ResolvedTls, type TlsFiles, type TlsSettings } from './pg-tls.js';

/**
 * The one place that turns config into node-postgres connection options. Every pg Client and
 * Pool of the daemon (source, replication, slot lock, state) is built from `pgConfig`, so TLS
 * settings apply to all of them alike.
 */

export type PgTarget = 'source' | 'state';

export interface PgConnection extends ResolvedTls {
  /** Key path prefix of the settings used: the state database without its own url uses `source`. */
  where: PgTarget;
}

/** The URL and TLS settings of one connection (pure). */
export function pgConnection(config: Config, target: PgTarget): PgConnection {
  const where: PgTarget = target === 'state' && config.state.url !== undefined ? 'state' : 'source';
  const url = where === 'state' ? config.state.url! : config.source.url;
  const keys = where === 'state' ? config.state.tls : config.source.tls;
  return { ...resolveTls(url, keys, where), where };
}

/**
 * node-postgres options for `target`, with `extra` (pool size, application_name…). The
 * certificate files are read on every call, so a pool made after a certificate was renewed
 * uses the new one.
 */
export function pgConfig<T extends object>(
  config: Config,
  target: PgTarget,
  extra: T,
): T & { connectionString: string; ssl: false | ConnectionOptions } {
  const c = pgConnection(config, target);
  return { ...extra, connectionString: c.url, ssl: sslOption(c.tls, readTlsFiles(c.tls)) };
}

/**
 * node-postgres options for a bare connection URL (before any config exists, as `init` has):
 * the same libpq meaning of its ssl parameters. Invalid ones throw a ConfigError.
 */
export function pgConfigForUrl<T extends object>(
  url: string,
  extra: T,
  what = 'the database URL',
): T & { connectionString: string; ssl: false | ConnectionOptions } {
  const c = resolveTls(url, undefined, 'source');
  if (c.problems.length > 0) throw new ConfigError(`${what}: invalid TLS parameters`, c.problems);
  return { ...extra, connectionString: c.url, ssl: sslOption(c.tls, readTlsFiles(c.tls)) };
}

/** Reads the files a TLS setting names; an unreadable one throws naming the setting and the file. */
export function readTlsFiles(t: TlsSettings): TlsFiles {
  const out: TlsFiles = {};
  for (const f of ['rootCert', 'cert', 'key'] as const) {
    const path = t[f];
    if (path === undefined || (f === 'rootCert' && path === 'system')) continue;
    try {
      out[f] = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${t.origin[f]}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }
  return out;
}

/** Config problems of both connections: conflicting or missing settings, unreadable files. */
export function pgConnectionProblems(config: Config): { problems: string[]; secrets: string[] } {
  const problems: string[] = [];
  const secrets: string[] = [];
  const targets: PgTarget[] = config.state.url === undefined ? ['source'] : ['source', 'state'];
  for (const target of targets) {
    const c = pgConnection(config, target);
    secrets.push(...c.secrets);
    problems.push(...c.problems);
    for (const f of ['rootCert', 'cert', 'key'] as const) {
      const path = c.tls[f];
      if (path === undefined || (f === 'rootCert' && path === 'system')) continue;
      try {
        accessSync(path, constants.R_OK);
      } catch (err) {
        problems.push(`${c.tls.origin[f]}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  if (config.state.url === undefined && config.state.tls !== undefined) {
    problems.push('state.tls: applies only with state.url; without it the state lives in the source database and uses source.tls');
  }
  return { problems, secrets };
}
