import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { scrub } from '../../src/log/secrets.js';
import { redactConfig } from '../../src/cli/commands/check-config.js';

const dir = mkdtempSync(join(tmpdir(), 'ccs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `
source:
  url: postgres://u@db/crm
customers:
  table: public.customers
`;
let n = 0;
const file = (yaml: string) => {
  const p = join(dir, `c${++n}.yaml`);
  writeFileSync(p, BASE + yaml);
  return p;
};
const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('server.adminToken and alerts config', () => {
  it('takes the admin token from CARECYCLE_SYNC_ADMIN_TOKEN, and never prints it', () => {
    const token = 'admin-token-from-env-0123456789';
    const { config } = loadConfig({ path: file(''), env: { CARECYCLE_SYNC_ADMIN_TOKEN: token } });
    expect(config.server.adminToken).toBe(token);
    expect(scrub(`Authorization: Bearer ${token}`)).not.toContain(token);
    expect(JSON.stringify(redactConfig(config))).not.toContain(token);
    expect(loadConfig({ path: file(''), env: {} }).config.server.adminToken).toBeUndefined();
  });

  it('a short admin token is a config error naming the key and the variable, not the token', () => {
    const path = file('');
    const problems = problemsOf(() => loadConfig({ path, env: { CARECYCLE_SYNC_ADMIN_TOKEN: 'short1' } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^${path.replaceAll('/', '\\/')}: server\\.adminToken: .*at least 16 characters.*CARECYCLE_SYNC_ADMIN_TOKEN`),
    );
    expect(scrub(problems.join('\n'))).not.toContain('short1');
  });

  it('alerts: defaults, and bad webhooks named by their key path', () => {
    const { config } = loadConfig({ path: file(''), env: {} });
    expect(config.alerts).toEqual({ webhooks: [], notReadyMinutes: 5, repeatMinutes: 60 });
    const ok = loadConfig({
      path: file(
        'alerts:\n  notReadyMinutes: 0.5\n  webhooks:\n    - url: https://hooks.slack.com/services/T0/B0/xyz\n      format: slack\n',
      ),
      env: {},
    }).config;
    expect(ok.alerts.notReadyMinutes).toBe(0.5);
    expect(ok.alerts.webhooks).toEqual([{ url: 'https://hooks.slack.com/services/T0/B0/xyz', format: 'slack' }]);
    // check-config shows where a webhook goes, not its secret path.
    expect(redactConfig(ok).alerts.webhooks[0]!.url).toBe('https://hooks.slack.com/[REDACTED]');
    const path = file(
      'alerts:\n  notReadyMinutes: 0\n  webhooks:\n    - url: not a url\n      events: [not_ready, slot_gone]\n      format: teams\n',
    );
    const problems = problemsOf(() => loadConfig({ path, env: {} })).map((p) => p.replace(`${path}: `, ''));
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'alerts.notReadyMinutes',
      'alerts.webhooks.0.events.1',
      'alerts.webhooks.0.format',
      'alerts.webhooks.0.url',
    ]);
    expect(problems.find((p) => p.startsWith('alerts.webhooks.0.events.1'))).toMatch(
      /not_ready.*api_key_rejected.*dead_letters_growing.*wal_retained/,
    );
  });
});
