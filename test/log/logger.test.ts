import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { registerSecret, registerUrlSecrets, scrub } from '../../src/log/secrets.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger({ level, destination }), lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON lines with the component of a child logger, filtered by level', () => {
    const { log, parsed } = capture('info');
    const source = log.child({ component: 'source' });
    source.debug('per-row detail');
    source.info({ lsn: '0/16B3748' }, 'streaming');
    const out = parsed();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ level: 30, component: 'source', lsn: '0/16B3748', msg: 'streaming' });
  });

  it('redacts the API key, x-api-key headers and connection-string passwords wherever they appear', () => {
    const key = 'cc_live_Zq81loggerTestKey';
    registerSecret(key);
    registerUrlSecrets('postgres://crm:Db-Pa55w0rd!@db.internal/crm');
    const { log, lines } = capture();
    const c = log.child({ component: 'deliver' });
    c.info({ apiKey: key, config: { carecycle: { apiKey: key } } }, 'configured');
    c.info({ req: { headers: { 'x-api-key': 'opaque-header-value', accept: 'application/json' } } }, 'request');
    c.warn({ url: 'postgres://crm:Db-Pa55w0rd!@db.internal/crm' }, 'connecting');
    c.error({ err: new Error(`rejected key ${key} for postgres://crm:Db-Pa55w0rd!@db.internal/crm`) }, 'failed');
    c.info(`dsn host=db password=Db-Pa55w0rd! key ${key}`);
    const text = lines.join('\n');
    expect(lines).toHaveLength(5);
    for (const secret of [key, 'Db-Pa55w0rd!', 'opaque-header-value']) expect(text).not.toContain(secret);
    expect(text).toContain('"accept":"application/json"');
    expect(text).toContain('postgres://crm:[REDACTED]@db.internal/crm');
  });

  it('scrub removes unregistered URL passwords and cc_ keys from any text', () => {
    expect(scrub('postgresql://u:never-registered@h:5432/x and cc_abcdef123')).toBe('postgresql://u:[REDACTED]@h:5432/x and cc_[REDACTED]');
  });
});
