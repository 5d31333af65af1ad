import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { contextCopySources, execForm, parseDockerfile } from './dockerfile.js';
import { startHealthServer } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { silentLogger } from '../../src/log/logger.js';

/**
 * There is no Docker engine on this machine, so the image itself is not built here. These
 * tests check what can be checked without one: the Dockerfile's inputs exist and are not
 * ignored, production dependencies alone run the built CLI, the HEALTHCHECK command works,
 * and the deploy manifests point at real files, paths and valid config.
 */
const run = promisify(execFile);

/**
 * What `npm run build` (tsc -p tsconfig.build.json, rootDir '.') emits, file by file: with
 * isolatedModules on, per-file transpilation gives the same JavaScript as tsc in a fraction of
 * the time (type errors are the typecheck's job). Layout: src/x.ts → dist/src/x.js. Module
 * ES2022: what NodeNext emits for a `"type": "module"` package, which transpileModule can't see.
 */
function transpileTree(from: string, to: string): void {
  const { options: compilerOptions } = ts.convertCompilerOptionsFromJson(
    JSON.parse(readFileSync('tsconfig.json', 'utf8')).compilerOptions,
    '.',
  );
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const src = join(entry.parentPath, entry.name);
    const out = join(to, relative(from, src)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      ts.transpileModule(readFileSync(src, 'utf8'), {
        compilerOptions: { ...compilerOptions, sourceMap: false, module: ts.ModuleKind.ES2022 },
        fileName: src,
      }).outputText,
    );
  }
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
const dockerfile = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const ignored = readFileSync('.dockerignore', 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('Dockerfile', () => {
  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = contextCopySources(dockerfile);
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'sql', 'config', 'tsconfig.json', 'tsconfig.build.json']),
    );
    for (const s of sources) {
      expect(existsSync(s), `${s} is COPYed but does not exist`).toBe(true);
      expect(ignored.includes(s) || ignored.includes(s.split('/')[0]!), `${s} is COPYed but .dockerignore excludes it`).toBe(false);
    }
  });

  it('runs the package bin as a numeric non-root user, `run` by default, with a HEALTHCHECK on /healthz', () => {
    const last = (k: string) => dockerfile.filter((i) => i.keyword === k).at(-1)!;
    expect(execForm(last('ENTRYPOINT').args)).toEqual(['node', pkg.bin['carecycle-sync']]);
    expect(execForm(last('CMD').args)).toEqual(['run']);
    expect(last('USER').args).toMatch(/^\d+(:\d+)?$/);
    expect(last('USER').args.startsWith('0')).toBe(false);
    expect(last('HEALTHCHECK').args).toContain('/healthz');
    expect(dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(' ')[0])).toEqual([
      'node:20-bookworm-slim',
      'node:20-bookworm-slim',
    ]);
    const runtime = dockerfile.filter((i) => i.stage === 'runtime');
    expect(runtime.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
  });

  it("HEALTHCHECK's command exits 0 against a live /healthz and 1 when nothing answers", async () => {
    const cmd = execForm(dockerfile.find((i) => i.keyword === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, ''));
    expect(cmd[0]).toBe('node');
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      readiness: async () => ({ ready: false, checks: {} }),
      log: silentLogger(),
    });
    // Asynchronously: the server answering lives in this process's event loop.
    const probe = (port: number) =>
      run(process.execPath, cmd.slice(1), { env: { ...process.env, PORT: String(port) }, timeout: 10_000 }).then(
        () => 0,
        (e: { code?: number }) => e.code,
      );
    try {
      expect(await probe(server.port)).toBe(0); // alive even though not ready
    } finally {
      await server.close();
    }
    expect(await probe(server.port)).toBe(1);
  });

  it('production dependencies alone run the built CLI (npm ci --omit=dev, as in the runtime stage)', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-image-'));
    tmp.push(dir);
    transpileTree('src', join(dir, 'dist', 'src'));
    for (const f of ['package.json', 'package-lock.json', 'sql', 'config']) cpSync(f, join(dir, f), { recursive: true });
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 1 << 24 });
    expect(existsSync(join(dir, 'node_modules', 'vitest'))).toBe(false);
    const env = { PATH: process.env.PATH, HOME: dir, NODE_ENV: 'production' };
    const bin = join(dir, pkg.bin['carecycle-sync']!);
    const help = await run(process.execPath, [bin, '--help'], { cwd: dir, env });
    expect(help.stdout).toContain('doctor');
    await run(process.execPath, [bin, 'doctor', '--help'], { cwd: dir, env });
    // The config loader and the state migrations are found from dist/ (sql/ beside package.json).
    const checked = await run(process.execPath, [bin, 'check-config', '--config', 'config/demo.yaml'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: 'postgres://u:secretpw@db/crm', CARECYCLE_API_KEY: 'cc_packaging_test' },
    });
    expect(checked.stdout + checked.stderr).not.toContain('secretpw');
    // The metrics and health modules load with production dependencies (prom-client).
    writeFileSync(
      join(dir, 'probe.mjs'),
      `
      const { createMetrics } = await import('./dist/src/observe/metrics.js');
      const { listMigrations } = await import('./dist/src/state/migrate.js');
      const text = await createMetrics().render();
      if (!text.includes('carecycle_sync_queue_depth')) process.exit(3);
      if (listMigrations().length === 0) process.exit(4);
    `,
    );
    await run(process.execPath, ['probe.mjs'], { cwd: dir, env });
  });
});

describe('README.md (the operator guide)', () => {
  const guide = readFileSync('README.md', 'utf8');
  it('links only to files that exist', () => {
    const links = [...guide.matchAll(/\]\(([^)#:]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const l of links) expect(existsSync(l), l).toBe(true);
  });
  it('names only commands the CLI has', async () => {
    const { buildProgram } = await import('../../src/cli/program.js');
    const known = new Set(buildProgram().commands.map((c) => c.name()));
    // Commands in code only: fenced blocks and inline spans.
    const code =
      [...guide.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n') +
      '\n' +
      [...guide.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!).join('\n');
    const used = new Set([...code.matchAll(/^\s*carecycle-sync ([a-z][a-z-]+)/gm)].map((m) => m[1]!));
    expect([...used].filter((c) => !known.has(c))).toEqual([]);
    for (const c of ['setup', 'doctor', 'run', 'status', 'teardown', 'backfill', 'preview', 'dead-letters'])
      expect(used.has(c), c).toBe(true);
  });
});

describe('deploy manifests', () => {
  // Kubernetes (deploy/kubernetes/): see kustomize.test.ts, which renders every agency overlay.

  it('docker-compose: logical wal_level, mounted files exist, the daemon waits for setup', () => {
    const compose = parseAllDocuments(readFileSync('deploy/docker-compose.yml', 'utf8'), { merge: true })[0]!.toJS();
    expect(compose.services.postgres.command.join(' ')).toContain('wal_level=logical');
    expect(compose.services.postgres.image).toBe('postgres:16');
    for (const svc of Object.values(compose.services) as Array<{ volumes?: string[] }>) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0]!;
        if (src.startsWith('.')) expect(existsSync(join('deploy', src)), `${v}`).toBe(true);
      }
    }
    expect(compose.services['carecycle-sync'].depends_on.setup.condition).toBe('service_completed_successfully');
    expect(compose.services['carecycle-sync'].command).toEqual(['run']);
  });

  it('systemd: starts the package bin with run, never restarts on a config error (exit 2)', () => {
    const unit = readFileSync('deploy/carecycle-sync.service', 'utf8');
    expect(unit).toMatch(
      new RegExp(`^ExecStart=/usr/bin/node /opt/carecycle-sync/${pkg.bin['carecycle-sync']!.replace(/\./g, '\\.')} run$`, 'm'),
    );
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(unit).toMatch(/^User=carecycle-sync$/m);
  });
});
