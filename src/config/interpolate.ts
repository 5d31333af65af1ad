/**
 * `${VAR}` and `${VAR:-default}` interpolation over a parsed YAML tree (docs/config-reference.md). Working on
 * the tree, not the text, keeps key paths for error messages and means a value can never inject
 * YAML. A string that is exactly `${VAR}` with VAR unset becomes absent, and the variable is
 * remembered so a "required" error can say which variable to set. A value that is exactly one
 * reference is typed like YAML would type it (numbers, booleans): see `typedScalar`.
 */

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Interpolated {
  value: unknown;
  /** key path (dotted) → the unset variable it referred to */
  unset: Map<string, string>;
}

export function interpolate(tree: unknown, env: NodeJS.ProcessEnv): Interpolated {
  const unset = new Map<string, string>();
  const walk = (node: unknown, path: string[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, env, path.join('.'), unset);
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, String(i)]));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) {
        const w = walk(v, [...path, k]);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return node;
  };
  return { value: walk(tree, []), unset };
}

function interpolateString(
  s: string,
  env: NodeJS.ProcessEnv,
  path: string,
  unset: Map<string, string>,
): string | number | boolean | undefined {
  let missing: string | undefined;
  const out = s.replace(REF, (_m, name: string, def: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    missing ??= name;
    return '';
  });
  if (missing !== undefined) {
    unset.set(path, missing);
    if (out.trim() === '') return undefined;
  }
  return WHOLE_REF.test(s) ? typedScalar(out) : out;
}

const WHOLE_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * A value that is exactly one reference takes the type the text would have had in YAML, so
 * `requestsPerMinute: ${RPM:-60}` is the number 60, as if written in place. Only numbers and
 * booleans: anything else stays the string it was.
 */
function typedScalar(v: string | number | boolean): string | number | boolean {
  if (typeof v !== 'string') return v;
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}
