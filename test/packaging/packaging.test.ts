import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { contextCopySources, execForm, parseDockerfile } from './dockerfile.js';
import { startHealthServer } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { silentLogger } from '../../src/log/logger.js';
import { bundleCli } from '../../scripts/bundle.js';

/**
 * There is no Docker engine on this machine, so the image itself is not built here. These
 * tests check what can be checked without one: the Dockerfile's inputs exist and are not
 * ignored, production dependencies alone run the built CLI, the HEALTHCHECK command works,
 * and the deploy manifests point at real files, paths and valid config.
 */
const run = promisify(execFile);

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
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'sql', 'config', 'scripts/bundle.ts']));
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
    expect(pkg.scripts.build).toBe('tsx scripts/bundle.ts');
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
    // What `npm run build` makes (scripts/bundle.ts), in the image's layout.
    const entry = bundleCli(join(dir, 'dist'));
    expect(entry).toBe(join(dir, pkg.bin['carecycle-sync']!));
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
    // The state migrations are found from the bundle (sql/ beside package.json).
    const sql = await run(process.execPath, [bin, 'setup', '--print-sql', '--config', 'config/demo.yaml'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/crm', CARECYCLE_API_KEY: 'cc_packaging_test' },
    });
    expect(sql.stdout).toContain('-- 001_state.sql');
    expect(sql.stdout).toContain('CREATE TABLE checkpoint');
    // pino is left outside the bundle: its pretty transport (a worker thread) starts from node_modules.
    expect(existsSync(join(dir, 'node_modules', 'pino-pretty'))).toBe(true);
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
