/**
 * The systemd template unit (deploy/carecycle-sync@.service): one daemon per agency, each
 * instance reading only its own directory, with the single unit's start and restart rules; and
 * `systemd-analyze verify` accepts it when the machine has systemd's tools.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TEMPLATE = 'deploy/carecycle-sync@.service';
const unit = readFileSync(TEMPLATE, 'utf8');
const single = readFileSync('deploy/carecycle-sync.service', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };
const lines = (text: string, key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const analyze = hasSystemdAnalyze();

describe('systemd template unit carecycle-sync@.service', () => {
  it('each instance reads its own config, environment and key, and logs under its own name', () => {
    expect(lines(unit, 'Environment')).toEqual(
      expect.arrayContaining([
        'CARECYCLE_SYNC_CONFIG=/etc/carecycle-sync/%i/config.yaml',
        'CARECYCLE_API_KEY_FILE=/etc/carecycle-sync/%i/api-key',
      ]),
    );
    expect(lines(unit, 'EnvironmentFile')).toEqual(['/etc/carecycle-sync/%i/env']);
    expect(lines(unit, 'SyslogIdentifier')).toEqual(['carecycle-sync-%i']);
    // Nothing fixes a port or a path that two instances would share.
    expect(lines(unit, 'Environment').some((e) => e.startsWith('PORT='))).toBe(false);
    for (const e of [...lines(unit, 'Environment'), ...lines(unit, 'EnvironmentFile')])
      if (e.includes('/etc/carecycle-sync/')) expect(e, e).toContain('%i');
  });

  it('starts the package bin with run and restarts as the single unit does (never on exit 2)', () => {
    expect(lines(unit, 'ExecStart')).toEqual([`/usr/bin/node /opt/carecycle-sync/${pkg.bin['carecycle-sync']} run`]);
    expect(lines(unit, 'ExecStart')).toEqual(lines(single, 'ExecStart'));
    for (const key of ['User', 'Restart', 'RestartPreventExitStatus', 'KillSignal', 'TimeoutStopSec', 'ProtectSystem', 'NoNewPrivileges']) {
      expect(lines(unit, key), key).toEqual(lines(single, key));
    }
    expect(lines(unit, 'RestartPreventExitStatus')).toEqual(['2']);
  });

  it.skipIf(!analyze)(analyze ? 'systemd-analyze verify accepts an instance of it' : 'SKIPPED: systemd-analyze is not installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-systemd-'));
    try {
      const instance = join(dir, 'carecycle-sync@acme.service');
      copyFileSync(TEMPLATE, instance);
      const r = spawnSync('systemd-analyze', ['verify', instance], { encoding: 'utf8' });
      // It exits 0 even for unknown keys; what it prints is the verdict.
      const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(instance));
      expect(complaints).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
