/** Small readers of the Dockerfile and .dockerignore for the packaging tests. */
export interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

/** Instructions with line continuations joined, comments dropped, each tagged with its stage. */
export function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: Instruction[] = [];
  let stage = '';
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(m[2]!)?.[1] ?? m[2]!;
    out.push({ keyword, args: m[2]!.trim(), stage });
  }
  return out;
}

/** Sources of `COPY` from the build context (not `--from=stage`). */
export function contextCopySources(ins: Instruction[]): string[] {
  return ins
    .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

/** The JSON (exec) form of ENTRYPOINT/CMD/HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  return JSON.parse(json) as string[];
}
