import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveTls, sslOption, verification } from '../../src/config/pg-tls.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { scrub } from '../../src/log/secrets.js';

const U = 'postgres://app:pw@db.example.com:5432/crm';

describe('resolveTls: libpq meaning of the URL parameters and tls keys', () => {
  it('takes the ssl parameters out of the URL and keeps the rest', () => {
    const r = resolveTls(`${U}?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x`, undefined, 'source');
    expect(r.problems).toEqual([]);
    expect(r.url).toBe(`${U}?application_name=x`);
    expect(r.tls).toMatchObject({
      mode: 'verify-full',
      rootCert: '/etc/ca.pem',
      origin: { mode: 'sslmode in source.url', rootCert: 'sslrootcert in source.url' },
    });
  });

  it('no sslmode means no TLS; require encrypts without verifying; require with a root certificate verifies the CA only', () => {
    expect(sslOption(resolveTls(U, undefined, 'source').tls, {})).toBe(false);
    expect(sslOption(resolveTls(`${U}?sslmode=require`, undefined, 'source').tls, {})).toEqual({ rejectUnauthorized: false });
    const ca = resolveTls(`${U}?sslmode=require&sslrootcert=/ca.pem`, undefined, 'source').tls;
    expect(verification(ca)).toEqual({ chain: true, host: false });
    const opt = sslOption(ca, { rootCert: 'PEM' }) as Record<string, unknown>;
    expect(opt).toMatchObject({ rejectUnauthorized: true, ca: 'PEM' });
    expect(typeof opt.checkServerIdentity).toBe('function');
  });

  it('verify-full checks the chain and the host; system uses the default trust store; a client certificate is passed with its passphrase', () => {
    const full = resolveTls(
      U,
      { mode: 'verify-full', rootCert: '/ca.pem', cert: '/c.pem', key: '/k.pem', keyPassword: 'hunter2' },
      'state',
    ).tls;
    expect(sslOption(full, { rootCert: 'CA', cert: 'C', key: 'K' })).toEqual({
      rejectUnauthorized: true,
      ca: 'CA',
      cert: 'C',
      key: 'K',
      passphrase: 'hunter2',
    });
    expect(full.origin.rootCert).toBe('state.tls.rootCert');
    const system = resolveTls(`${U}?sslmode=verify-full&sslrootcert=system`, undefined, 'source');
    expect(system.problems).toEqual([]);
    expect(sslOption(system.tls, {})).toEqual({ rejectUnauthorized: true });
  });

  it('names the setting for every invalid combination', () => {
    const p = (url: string, keys?: object) => resolveTls(url, keys, 'source').problems.join('\n');
    expect(p(`${U}?sslmode=prefer`)).toMatch(
      /^sslmode in source\.url: sslmode=prefer is not supported: it falls back to an unencrypted connection/,
    );
    expect(p(`${U}?sslmode=verify-full`)).toMatch(/sslmode=verify-full needs sslrootcert/);
    expect(p(U, { mode: 'verify-ca' })).toMatch(/^source\.tls\.mode: sslmode=verify-ca needs sslrootcert/);
    expect(p(`${U}?sslmode=require`, { mode: 'verify-full', rootCert: '/ca' })).toMatch(
      /^source\.tls\.mode: conflicts with sslmode in source\.url \("require" and "verify-full"\)/,
    );
    expect(p(`${U}?sslmode=require&sslrootcert=system`)).toMatch(/sslrootcert=system needs sslmode=verify-full/);
    expect(p(`${U}?sslmode=require&sslcert=/c.pem`)).toMatch(/a client certificate needs both sslcert and sslkey/);
    expect(p(`${U}?ssl=true`)).toMatch(/^source\.url: the parameter ssl="true" is not supported; write sslmode=/);
    expect(p(`${U}?sslmode=require&uselibpqcompat=true`)).toMatch(/uselibpqcompat/);
    expect(p(`${U}?sslmode=bogus`)).toMatch(/unknown sslmode "bogus"/);
    expect(p(U, { rootCert: '/ca.pem' })).toMatch(/^source\.tls\.rootCert: given, but TLS is off/);
  });

  it('reports sslpassword as a secret', () => {
    expect(resolveTls(`${U}?sslmode=require&sslpassword=s3cr3t-pass`, undefined, 'source').secrets).toEqual(['s3cr3t-pass']);
  });
});

describe('the config loader checks TLS settings (exit 2)', () => {
  it('names the key path, the variable it came from and the unreadable file; never the sslpassword', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-tls-cfg-'));
    try {
      const cfg = join(dir, 'c.yaml');
      writeFileSync(cfg, 'source: { url: "${DATABASE_URL}" }\ncustomers: { table: customers }\n');
      const env = {
        DATABASE_URL: `${U}?sslmode=verify-full&sslrootcert=${dir}/missing.pem&sslpassword=topsecret99`,
        CARECYCLE_API_KEY: 'cc_x',
      };
      let err: unknown;
      try {
        loadConfig({ path: cfg, env });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.map(scrub);
      expect(problems).toEqual([
        `${cfg}: sslrootcert in source.url: cannot read ${dir}/missing.pem (ENOENT) (source.url is from DATABASE_URL)`,
      ]);
      expect(scrub('x topsecret99 y')).not.toContain('topsecret99');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects state.tls without state.url', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-tls-cfg-'));
    try {
      const cfg = join(dir, 'c.yaml');
      writeFileSync(cfg, 'source: { url: "postgres://h/db" }\nstate: { tls: { mode: require } }\ncustomers: { table: customers }\n');
      expect(() => loadConfig({ path: cfg, env: {} })).toThrow(ConfigError);
      try {
        loadConfig({ path: cfg, env: {} });
      } catch (e) {
        expect((e as ConfigError).problems[0]).toMatch(/state\.tls: applies only with state\.url/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveTls leaves other URLs alone', () => {
  it('a URL without ssl parameters is passed on byte for byte', () => {
    const odd = 'postgres://app:p%40ss%2Fw0rd@db.example.com/crm?application_name=a%20b';
    expect(resolveTls(odd, undefined, 'source').url).toBe(odd);
    expect(resolveTls('/var/run/postgresql crm', undefined, 'source').url).toBe('/var/run/postgresql crm');
  });
});
