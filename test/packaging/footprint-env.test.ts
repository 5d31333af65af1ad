/**
 * The environment that keeps an idle daemon small (docs/footprint.md) is the same wherever it is
 * shipped: the image's ENV, both systemd units, and what `npm run bench -- idle` measures with.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseDockerfile } from './dockerfile.js';
import { PRODUCTION_NODE_ENV } from '../../bench/lib/run-daemon.js';

const expected = Object.entries(PRODUCTION_NODE_ENV).map(([k, v]) => `${k}=${v}`);

describe('footprint environment', () => {
  it('the runtime image sets it', () => {
    const env = parseDockerfile(readFileSync('Dockerfile', 'utf8'))
      .filter((i) => i.stage === 'runtime' && i.keyword === 'ENV')
      .flatMap((i) => i.args.split(/\s+/));
    expect(env).toEqual(expect.arrayContaining(expected));
  });

  for (const unit of ['deploy/carecycle-sync.service', 'deploy/carecycle-sync@.service']) {
    it(`${unit} sets it`, () => {
      const env = [...readFileSync(unit, 'utf8').matchAll(/^Environment=(.*)$/gm)].map((m) => m[1]!);
      expect(env).toEqual(expect.arrayContaining(expected));
    });
  }

  it('node accepts the options in NODE_OPTIONS', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(
      process.execPath,
      ['-e', 'process.stdout.write(String(require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size))'],
      {
        env: { ...process.env, ...PRODUCTION_NODE_ENV },
        encoding: 'utf8',
      },
    );
    // Two semi-spaces of 1 MB at most.
    expect(Number(out)).toBeLessThanOrEqual(2 * 2 ** 20);
  });
});
