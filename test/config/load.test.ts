import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ccs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(yaml: string): string {
  const p = join(dir, `c${++n}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

const MINIMAL = `
source:
  url: \${DATABASE_URL}
carecycle:
  apiKey: \${CARECYCLE_API_KEY}
customers:
  table: public.customers
`;

function problemsOf(fn: () => unknown): { message: string; problems: readonly string[] } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { message: (err as ConfigError).message, problems: (err as ConfigError).problems };
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the file, interpolates, fills defaults', () => {
    const path = file(MINIMAL);
    const { config } = loadConfig({ path, env: { DATABASE_URL: 'postgres://a@h/crm', CARECYCLE_API_KEY: 'cc_test_1234' } });
    expect(config.source).toEqual({
      url: 'postgres://a@h/crm',
      slot: 'carecycle_sync',
      publication: 'carecycle_sync',
      heartbeatSeconds: 30,
      onSlotLost: 'recreate',
    });
    expect(config.carecycle.apiKey).toBe('cc_test_1234');
    expect(config.carecycle.requestsPerMinute).toBe(60);
    expect(config.state.schema).toBe('carecycle_sync');
  });

  it('takes the path from CARECYCLE_SYNC_CONFIG, and says how to give one when missing', () => {
    const path = file(MINIMAL);
    expect(loadConfig({ env: { CARECYCLE_SYNC_CONFIG: path, DATABASE_URL: 'postgres://h/x' } }).path).toBe(path);
    const { message } = problemsOf(() => loadConfig({ path: join(dir, 'nope.yaml'), env: {} }));
    expect(message).toContain('nope.yaml: config file not found');
    expect(message).toContain('CARECYCLE_SYNC_CONFIG');
  });

  it('lets the environment override the file', () => {
    const path = file(`
source: { url: "postgres://file@h/crm" }
state: { url: "postgres://file@h/state" }
carecycle: { baseUrl: "https://file.example", apiKey: cc_from_file }
customers: { table: customers }
log: { level: warn }
server: { port: 1 }
`);
    const { config } = loadConfig({
      path,
      env: {
        DATABASE_URL: 'postgres://env@h/crm',
        STATE_DATABASE_URL: 'postgres://env@h/state',
        CARECYCLE_BASE_URL: 'http://127.0.0.1:9',
        CARECYCLE_API_KEY: 'cc_from_env',
        LOG_LEVEL: 'debug',
        PORT: '9090',
      },
    });
    expect(config.source.url).toBe('postgres://env@h/crm');
    expect(config.state.url).toBe('postgres://env@h/state');
    expect(config.carecycle.baseUrl).toBe('http://127.0.0.1:9');
    expect(config.carecycle.apiKey).toBe('cc_from_env');
    expect(config.log.level).toBe('debug');
    expect(config.server.port).toBe(9090);
  });

  it('reads the key from CARECYCLE_API_KEY_FILE (trimmed), CARECYCLE_API_KEY winning over it', () => {
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'cc_from_key_file\n');
    const path = file(MINIMAL);
    const base = { DATABASE_URL: 'postgres://h/x', CARECYCLE_API_KEY_FILE: keyFile };
    expect(loadConfig({ path, env: base }).config.carecycle.apiKey).toBe('cc_from_key_file');
    expect(loadConfig({ path, env: { ...base, CARECYCLE_API_KEY: 'cc_direct' } }).config.carecycle.apiKey).toBe('cc_direct');
    const { message } = problemsOf(() => loadConfig({ path, env: { ...base, CARECYCLE_API_KEY_FILE: join(dir, 'absent') } }));
    expect(message).toContain('CARECYCLE_API_KEY_FILE: cannot read');
    expect(message).toContain('ENOENT');
  });

  it('lists every problem at once, each with the file, the key path, what was expected and what was found', () => {
    const path = file(`
source:
  url: \${CCS_TEST_UNSET_URL}
  slot: carecycle-sync
carecycle:
  requestsPerMinute: fast
  colour: blue
sync:
  onCustomerDelete: delete-everything
customers:
  table: public.customers
  fields:
    firstname: first_name
`);
    const { message, problems } = problemsOf(() => loadConfig({ path, env: {} }));
    expect(message).toBe(`${path}: invalid config (6 problems)`);
    expect(problems).toHaveLength(6);
    for (const p of problems) expect(p.startsWith(`${path}: `)).toBe(true);
    const about = (key: string) => problems.find((p) => p.startsWith(`${path}: ${key}: `)) ?? `(no problem about ${key})`;
    expect(about('source.url')).toContain('required, expected string (it refers to ${CCS_TEST_UNSET_URL}, which is not set)');
    expect(about('source.slot')).toContain('found "carecycle-sync"');
    expect(about('carecycle.requestsPerMinute')).toContain('expected number, found "fast"');
    expect(about('carecycle')).toContain('unknown key "colour"');
    expect(about('sync.onCustomerDelete')).toMatch(/expected one of "ignore"\|"cancel-policies", found "delete-everything"/);
    expect(about('customers.fields.firstname')).toContain('unknown customer field "firstname"');
  });

  it('names the environment variable a bad value came from, or could come from', () => {
    const path = file('customers: { table: customers }\n');
    const { problems } = problemsOf(() => loadConfig({ path, env: { PORT: 'eighty', LOG_LEVEL: 'loud' } }));
    expect(problems).toContain(`${path}: server.port: expected number, found "eighty" (from PORT)`);
    expect(problems.some((p) => p.startsWith(`${path}: log.level:`) && p.includes('found "loud" (from LOG_LEVEL)'))).toBe(true);
    expect(problems).toContain(`${path}: source: required, expected object (set it in the file; DATABASE_URL can give source.url)`);
    const withSource = file('source: { slot: s }\ncustomers: { table: customers }\n');
    expect(problemsOf(() => loadConfig({ path: withSource, env: {} })).problems).toEqual([
      `${withSource}: source.url: required, expected string (set it in the file or in DATABASE_URL)`,
    ]);
  });

  it('reports bad YAML with its line, without quoting the file', () => {
    const path = file('source:\n  url: postgres://u:hunter2@h/x\n  slot: [a,\n customers: 1\n');
    const { message, problems } = problemsOf(() => loadConfig({ path, env: {} }));
    expect(message).toBe(`${path}: not valid YAML`);
    expect(problems[0]).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: YAML syntax: .*line \\d+, column \\d+`));
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('keeps the API key and database passwords out of the problems of an invalid config', () => {
    const path = file(`
source: { url: "postgres://crm:pw-in-file-123@db/crm", slot: 1 }
state: { url: "not a url password=pw-in-dsn-456" }
carecycle: { apiKey: "sk_wrong_prefix_789", api_key: "cc_misplaced_key_000" }
customers: { table: "bad table" }
`);
    const { message, problems } = problemsOf(() =>
      loadConfig({ path, env: { CARECYCLE_BASE_URL: 'https://u:pw-in-env-321@api.example' } }),
    );
    const text = [message, ...problems].join('\n');
    for (const secret of ['pw-in-file-123', 'pw-in-dsn-456', 'sk_wrong_prefix_789', 'cc_misplaced_key_000', 'pw-in-env-321']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('carecycle.apiKey: a CareCycle API key starting with cc_, found a string of 19 characters (not shown)');
    expect(text).toContain('carecycle: unknown key "api_key"');
  });
});
