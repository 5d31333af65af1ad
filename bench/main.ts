/**
 * Benchmark dispatcher: `npm run bench -- <name> [args…]` runs bench/<name>.ts (backfill, capture,
 * deliver, idle, latency, skew; every .ts here but this one is registered by its name), which exports
 * `run(args: string[]): Promise<void>` and prints its figures. Benchmarks are not tests.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts')
  .map((f) => f.slice(0, -3))
  .sort();

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || !available.includes(name)) {
    process.stderr.write(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ') || '(none)'}\n`);
    return 2;
  }
  const mod = (await import(`./${name}.js`)) as { run?: (args: string[]) => Promise<void> };
  if (typeof mod.run !== 'function') {
    process.stderr.write(`bench/${name}.ts does not export run(args)\n`);
    return 2;
  }
  await mod.run(args);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
