import { accessSync, constants, readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { registerSecret, registerUrlSecrets } from '../log/secrets.js';
import { configSchema, type Config } from './schema.js';
import { interpolate } from './interpolate.js';
import { pgConnectionProblems } from './pg-connection.js';
import { proxyFromEnv } from './proxy-env.js';
import { describeIssue } from './problems.js';

export const DEFAULT_CONFIG_PATH = 'config/carecycle-sync.yaml';

export interface LoadOptions {
  /** --config; falls back to CARECYCLE_SYNC_CONFIG, then DEFAULT_CONFIG_PATH. */
  path?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Config;
  path: string;
}

/**
 * Reads, interpolates, applies environment overrides (docs/config-reference.md) and validates the config.
 * Throws ConfigError (exit 2) listing every problem as `file: key.path: expected …, found …`.
 */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = resolve(opts.path ?? (env.CARECYCLE_SYNC_CONFIG || DEFAULT_CONFIG_PATH));
  if (!existsSync(path)) {
    throw new ConfigError(`${path}: config file not found (pass --config FILE or set CARECYCLE_SYNC_CONFIG)`);
  }
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    // First line only: the rest quotes the file, which may hold a secret.
    const problems = doc.errors.map((e) => `${path}: YAML syntax: ${e.message.split('\n')[0]}`);
    throw new ConfigError(`${path}: not valid YAML`, problems);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected a YAML mapping at the top level`);
  }
  const { value, unset } = interpolate(raw, env);
  const { config, fromEnv } = applyEnvOverrides(value as Record<string, unknown>, env, path);
  return { config: validateConfig(config, path, unset, fromEnv), path };
}

/** Validates an already-built config object (used by loadConfig, the demo and tests). */
export function validateConfig(
  input: unknown,
  path = '<config>',
  unset = new Map<string, string>(),
  fromEnv = new Map<string, string>(),
): Config {
  // Registered before validation, so an invalid config can't leak them through any message.
  registerConfigSecrets(input);
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => describeIssue(i, { file: path, input, unset, fromEnv }));
    throw new ConfigError(`${path}: invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  const tls = pgConnectionProblems(parsed.data);
  tls.secrets.forEach(registerSecret);
  const caFile = parsed.data.carecycle.caFile;
  if (caFile !== undefined && !readable(caFile)) tls.problems.push(`carecycle.caFile: cannot read ${caFile}`);
  if (tls.problems.length > 0) {
    const problems = tls.problems.map((p) => `${path}: ${p}${fromEnvNote(p, fromEnv)}`);
    throw new ConfigError(`${path}: invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  return parsed.data;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Names the variable a `source.url` or `state.url` came from, when a problem is about it. */
function fromEnvNote(problem: string, fromEnv: ReadonlyMap<string, string>): string {
  const key = /\b(source|state)\.url\b/.exec(problem)?.[0];
  const env = key ? fromEnv.get(key) : undefined;
  return env ? ` (${key} is from ${env})` : '';
}

/** Registers every API key, password and connection-string password found anywhere in the tree. */
function registerConfigSecrets(node: unknown, key = ''): void {
  if (typeof node === 'string') {
    if (/(apiKey|password|secret|token)$/i.test(key)) registerSecret(node);
    if (/url$/i.test(key)) registerUrlSecrets(node);
    return;
  }
  if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) registerConfigSecrets(v, k);
}

function applyEnvOverrides(
  cfg: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  path: string,
): { config: Record<string, unknown>; fromEnv: Map<string, string> } {
  const out = structuredClone(cfg);
  const fromEnv = new Map<string, string>();
  const set = (section: string, key: string, v: unknown, variable: string) => {
    const s = (out[section] ?? {}) as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s)) return;
    s[key] = v;
    out[section] = s;
    fromEnv.set(`${section}.${key}`, variable);
  };
  if (env.DATABASE_URL) set('source', 'url', env.DATABASE_URL, 'DATABASE_URL');
  if (env.STATE_DATABASE_URL) set('state', 'url', env.STATE_DATABASE_URL, 'STATE_DATABASE_URL');
  if (env.CARECYCLE_BASE_URL) set('carecycle', 'baseUrl', env.CARECYCLE_BASE_URL, 'CARECYCLE_BASE_URL');
  if (env.CARECYCLE_API_KEY) set('carecycle', 'apiKey', env.CARECYCLE_API_KEY, 'CARECYCLE_API_KEY');
  else if (env.CARECYCLE_API_KEY_FILE) set('carecycle', 'apiKey', readKeyFile(env.CARECYCLE_API_KEY_FILE, path), 'CARECYCLE_API_KEY_FILE');
  if (env.LOG_LEVEL) set('log', 'level', env.LOG_LEVEL, 'LOG_LEVEL');
  applyProxyEnv(out, env, fromEnv);
  if (env.CARECYCLE_SYNC_ADMIN_TOKEN) set('server', 'adminToken', env.CARECYCLE_SYNC_ADMIN_TOKEN, 'CARECYCLE_SYNC_ADMIN_TOKEN');
  // A PORT that is not a number stays a string, so the error shows what was given.
  if (env.PORT) set('server', 'port', /^\d+$/.test(env.PORT.trim()) ? Number(env.PORT) : env.PORT, 'PORT');
  return { config: out, fromEnv };
}

/** carecycle.proxy.* from the proxy variables (./proxy-env.ts), over the file's values. */
function applyProxyEnv(out: Record<string, unknown>, env: NodeJS.ProcessEnv, fromEnv: Map<string, string>): void {
  const found = Object.entries(proxyFromEnv(env));
  if (found.length === 0) return;
  const cc = (out.carecycle ?? {}) as Record<string, unknown>;
  if (typeof cc !== 'object' || Array.isArray(cc)) return;
  const proxy = (cc.proxy && typeof cc.proxy === 'object' ? cc.proxy : {}) as Record<string, unknown>;
  for (const [key, { value, variable }] of found) {
    proxy[key] = value;
    fromEnv.set(`carecycle.proxy.${key}`, variable);
  }
  cc.proxy = proxy;
  out.carecycle = cc;
}

function readKeyFile(file: string, path: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${path}: CARECYCLE_API_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The API key or a ConfigError saying how to provide it (for commands that talk to CareCycle). */
export function requireApiKey(config: Config, path: string): string {
  const k = config.carecycle.apiKey;
  if (!k) throw new ConfigError(`${path}: carecycle.apiKey: required for this command; set CARECYCLE_API_KEY or CARECYCLE_API_KEY_FILE`);
  return k;
}

/**
 * When the key comes from CARECYCLE_API_KEY_FILE (and CARECYCLE_API_KEY does not override it):
 * a function that reads that file again, so a key rotated in place (a mounted secret) is used
 * without a restart. It returns undefined while the file is unreadable, empty or not a `cc_`
 * key, so a rotation caught half-written keeps the old key. Undefined when there is no file.
 */
export function apiKeyFileReader(env: NodeJS.ProcessEnv = process.env): (() => string | undefined) | undefined {
  const file = env.CARECYCLE_API_KEY_FILE;
  if (env.CARECYCLE_API_KEY || !file) return undefined;
  return () => {
    try {
      const key = readFileSync(file, 'utf8').trim();
      if (!key.startsWith('cc_')) return undefined;
      registerSecret(key);
      return key;
    } catch {
      return undefined;
    }
  };
}
