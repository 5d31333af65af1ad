import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { registerSecret, registerUrlSecrets } from '../log/secrets.js';
import { configSchema, type Config } from './schema.js';
import { interpolate } from './interpolate.js';

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

/** Keys whose values are never echoed in an error message. */
const SECRET_KEYS = /(apiKey|url|password)$/i;

/**
 * Reads, interpolates, applies environment overrides (DESIGN §3) and validates the config.
 * Throws ConfigError (exit 2) listing every problem as `file: key.path: expected …, found …`.
 */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = resolve(opts.path ?? env.CARECYCLE_SYNC_CONFIG ?? DEFAULT_CONFIG_PATH);
  if (!existsSync(path)) {
    throw new ConfigError(`${path}: config file not found (pass --config FILE or set CARECYCLE_SYNC_CONFIG)`);
  }
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `${path}: YAML syntax: ${e.message.split('\n')[0]}`);
    throw new ConfigError(`${path}: not valid YAML`, problems);
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected a YAML mapping at the top level`);
  }
  const { value, unset } = interpolate(raw, env);
  const withEnv = applyEnvOverrides(value as Record<string, unknown>, env, path);
  return { config: validateConfig(withEnv, path, unset), path };
}

/** Validates an already-built config object (used by loadConfig, the demo and tests). */
export function validateConfig(input: unknown, path = '<config>', unset = new Map<string, string>()): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => describeIssue(i, input, path, unset));
    throw new ConfigError(`${path}: invalid config (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  const config = parsed.data;
  registerSecret(config.carecycle.apiKey);
  registerUrlSecrets(config.source.url);
  registerUrlSecrets(config.state.url);
  return config;
}

function applyEnvOverrides(cfg: Record<string, unknown>, env: NodeJS.ProcessEnv, path: string): Record<string, unknown> {
  const out = structuredClone(cfg);
  const set = (section: string, key: string, v: unknown) => {
    const s = (out[section] ?? {}) as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s)) return;
    s[key] = v;
    out[section] = s;
  };
  if (env.DATABASE_URL) set('source', 'url', env.DATABASE_URL);
  if (env.STATE_DATABASE_URL) set('state', 'url', env.STATE_DATABASE_URL);
  if (env.CARECYCLE_BASE_URL) set('carecycle', 'baseUrl', env.CARECYCLE_BASE_URL);
  if (env.CARECYCLE_API_KEY) set('carecycle', 'apiKey', env.CARECYCLE_API_KEY);
  else if (env.CARECYCLE_API_KEY_FILE) {
    try {
      set('carecycle', 'apiKey', readFileSync(env.CARECYCLE_API_KEY_FILE, 'utf8').trim());
    } catch (err) {
      throw new ConfigError(`${path}: CARECYCLE_API_KEY_FILE: cannot read ${env.CARECYCLE_API_KEY_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (env.LOG_LEVEL) set('log', 'level', env.LOG_LEVEL);
  if (env.PORT) set('server', 'port', Number(env.PORT));
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, file: string, unset: Map<string, string>): string {
  const keyPath = issue.path.map(String).join('.') || '(top level)';
  const found = valueAt(input, issue.path);
  const secret = SECRET_KEYS.test(keyPath);
  let text = issue.message;
  if (issue.code === 'invalid_type' && found === undefined) {
    text = `required, expected ${issue.expected}`;
    const v = unset.get(keyPath);
    if (v) text += ` (it refers to \${${v}}, which is not set)`;
  } else if (issue.code === 'unrecognized_keys') {
    text = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const shown = found === undefined || issue.code === 'unrecognized_keys' ? '' : `, found ${secret ? describeSecret(found) : JSON.stringify(found)}`;
  return `${file}: ${keyPath}: ${text}${shown}`;
}

function describeSecret(v: unknown): string {
  return typeof v === 'string' ? `a string of ${v.length} characters (not shown)` : typeof v;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The API key or a ConfigError saying how to provide it (for commands that talk to CareCycle). */
export function requireApiKey(config: Config, path: string): string {
  const k = config.carecycle.apiKey;
  if (!k) throw new ConfigError(`${path}: carecycle.apiKey: required for this command; set CARECYCLE_API_KEY or CARECYCLE_API_KEY_FILE`);
  return k;
}
