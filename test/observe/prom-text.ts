/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), enough to prove
 * that /metrics is something Prometheus will ingest: every sample belongs to a declared family,
 * names and labels are well-formed, values are numbers.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('# HELP ')) {
      const parts = line.split(' ');
      const fname = parts[2] ?? '';
      if (!NAME.test(fname)) throw new Error(`bad metric name in HELP, ${where}`);
      const f = families.get(fname) ?? { name: fname, type: 'untyped', help: '', samples: [] };
      f.help = parts.slice(3).join(' ');
      families.set(fname, f);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , fname, type] = line.split(' ');
      if (!fname || !NAME.test(fname) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? ''))
        throw new Error(`bad TYPE, ${where}`);
      const f = families.get(fname) ?? { name: fname, type: type!, help: '', samples: [] };
      f.type = type!;
      families.set(fname, f);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample, ${where}`);
    const name = m[1]!;
    const labels: Record<string, string> = {};
    if (m[3]) {
      LABEL.lastIndex = 0;
      let pos = 0;
      while (pos < m[3].length) {
        LABEL.lastIndex = pos;
        const l = LABEL.exec(m[3]);
        if (!l) throw new Error(`bad labels, ${where}`);
        labels[l[1]!] = l[2]!;
        pos = LABEL.lastIndex;
      }
    }
    const raw = m[4]!;
    // Prometheus parses values with Go's strconv.ParseFloat: NaN and Inf in any letter case.
    const special = /^nan$/i.test(raw) ? NaN : /^[+-]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : undefined;
    const value = special ?? Number(raw);
    if (Number.isNaN(value) && special === undefined) throw new Error(`bad value, ${where}`);
    const base = families.has(name)
      ? name
      : SUFFIXES.map((s) => (name.endsWith(s) ? name.slice(0, -s.length) : '')).find((b) => b && families.has(b));
    if (!base) throw new Error(`sample of an undeclared family, ${where}`);
    families.get(base)!.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of one sample, or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
