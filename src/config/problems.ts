import type { z } from 'zod';

/**
 * Turns zod issues into the lines an operator reads: `file: key.path: what was expected, found
 * what`, naming the environment variable a value came from or could come from. Values of secret
 * keys are described, never shown (docs/architecture.md, "Guarantees": the API key never appears in output).
 */

/** Config keys the environment can set (docs/architecture.md, "External contract"). */
export const ENV_FOR_KEY: Readonly<Record<string, string>> = {
  'source.url': 'DATABASE_URL',
  'state.url': 'STATE_DATABASE_URL',
  'carecycle.baseUrl': 'CARECYCLE_BASE_URL',
  'carecycle.apiKey': 'CARECYCLE_API_KEY or CARECYCLE_API_KEY_FILE',
  'log.level': 'LOG_LEVEL',
  'server.port': 'PORT',
};

export interface ProblemContext {
  file: string;
  /** The config object that was validated. */
  input: unknown;
  /** key path → the unset variable a `${VAR}` referred to */
  unset: ReadonlyMap<string, string>;
  /** key path → the environment variable whose value was used */
  fromEnv: ReadonlyMap<string, string>;
}

const SECRET_KEY = /(apiKey|password|secret|token)$/i;
const URL_KEY = /url$/i;

export function describeIssue(issue: z.core.$ZodIssue, ctx: ProblemContext): string {
  const keyPath = issue.path.map(String).join('.') || '(top level)';
  const found = valueAt(ctx.input, issue.path);
  let text = issue.message;
  if (issue.code === 'invalid_type' && found === undefined) {
    text = `required, expected ${issue.expected}`;
    const v = ctx.unset.get(keyPath);
    if (v) text += ` (it refers to \${${v}}, which is not set)`;
    else text += envHint(keyPath);
  } else if (issue.code === 'invalid_type') {
    text = `expected ${issue.expected}`;
  } else if (issue.code === 'unrecognized_keys') {
    text = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const shown = found === undefined || issue.code === 'unrecognized_keys' ? '' : `, found ${showValue(keyPath, found)}`;
  const env = ctx.fromEnv.get(keyPath);
  return `${ctx.file}: ${keyPath}: ${text}${shown}${env && shown ? ` (from ${env})` : ''}`;
}

/** How the environment could provide a missing key, or a section holding such keys. */
function envHint(keyPath: string): string {
  if (ENV_FOR_KEY[keyPath]) return ` (set it in the file or in ${ENV_FOR_KEY[keyPath]})`;
  const inside = Object.entries(ENV_FOR_KEY).filter(([k]) => k.startsWith(`${keyPath}.`));
  return inside.length > 0 ? ` (set it in the file; ${inside.map(([k, v]) => `${v} can give ${k}`).join(', ')})` : '';
}

/** A value for an error message: secrets described by their shape, URL passwords masked. */
export function showValue(keyPath: string, v: unknown): string {
  if (SECRET_KEY.test(keyPath)) return typeof v === 'string' ? `a string of ${v.length} characters (not shown)` : `a ${typeof v}`;
  if (URL_KEY.test(keyPath) && typeof v === 'string') {
    try {
      const u = new URL(v);
      if (u.password) u.password = '***';
      return JSON.stringify(u.toString());
    } catch {
      // Not a URL (perhaps a keyword DSN with password=...): say what it is, not what it says.
      return `a string of ${v.length} characters that is not a URL (not shown)`;
    }
  }
  return JSON.stringify(v) ?? String(v);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}
