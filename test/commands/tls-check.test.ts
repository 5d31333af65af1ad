import { describe, expect, it } from 'vitest';
import type { PgConnection } from '../../src/config/pg-connection.js';
import { resolveTls } from '../../src/config/pg-tls.js';
import { explainTlsFailure, explainTlsFailureIn, judgeTls } from '../../src/commands/doctor/tls-check.js';

const conn = (url: string, keys?: object): PgConnection => ({ ...resolveTls(url, keys, 'source'), where: 'source' });
const remote = 'postgres://app@db.example.com/crm';

describe('judgeTls: the doctor line of one connection', () => {
  it('fails when sslmode asked for verification that did not happen', () => {
    const r = judgeTls('source database', conn(`${remote}?sslmode=verify-full&sslrootcert=/ca.pem`), {
      encrypted: true,
      protocol: 'TLSv1.3',
      authorized: false,
    });
    expect(r).toMatchObject({
      ok: false,
      detail: 'encrypted (TLSv1.3) but the server certificate was NOT verified, although sslmode=verify-full asks for it',
    });
    expect(judgeTls('source database', conn(`${remote}?sslmode=require`), { encrypted: false, authorized: false })).toMatchObject({
      ok: false,
      detail: 'not encrypted, although sslmode=require asks for TLS',
    });
  });

  it('passes a verified connection, saying against what and whether the host was checked', () => {
    expect(
      judgeTls('source database', conn(`${remote}?sslmode=verify-full&sslrootcert=/ca.pem`), {
        encrypted: true,
        protocol: 'TLSv1.3',
        authorized: true,
      }),
    ).toEqual({
      name: 'TLS to source database',
      ok: true,
      detail: 'encrypted (TLSv1.3); server certificate verified against /ca.pem, host name db.example.com matches (sslmode=verify-full)',
    });
    expect(
      judgeTls('x', conn(`${remote}?sslmode=verify-full&sslrootcert=system`), { encrypted: true, protocol: 'TLSv1.2', authorized: true })
        .detail,
    ).toMatch(/verified against this host's trusted CAs/);
  });

  it('warns about an unverified or unencrypted connection to another host; plain on loopback is fine', () => {
    expect(judgeTls('x', conn(`${remote}?sslmode=require`), { encrypted: true, protocol: 'TLSv1.3', authorized: false })).toMatchObject({
      ok: true,
      warn: true,
    });
    expect(judgeTls('x', conn(remote), { encrypted: false, authorized: false })).toMatchObject({
      ok: true,
      warn: true,
      detail: expect.stringMatching(/^not encrypted \(sslmode=disable\): passwords and customer data cross the network in clear/),
    });
    expect(judgeTls('x', conn('postgres://app@127.0.0.1:5432/crm'), { encrypted: false, authorized: false })).toMatchObject({
      ok: true,
      detail: 'not encrypted (sslmode=disable; 127.0.0.1 is this host)',
    });
    expect(judgeTls('x', conn('postgres://app@127.0.0.1:5432/crm'), { encrypted: false, authorized: false }).warn).toBeUndefined();
  });
});

describe('explainTlsFailure', () => {
  const c = conn(`${remote}?sslmode=verify-full&sslrootcert=/etc/ca.pem`);
  it('an untrusted chain names sslrootcert and its file', () => {
    const e = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(explainTlsFailure(e, c)).toEqual({
      detail:
        'the server certificate of db.example.com is not signed by a CA in sslrootcert /etc/ca.pem (sslrootcert in source.url) (SELF_SIGNED_CERT_IN_CHAIN)',
      fix: "set sslrootcert in source.url to the CA certificate that signed the server's certificate (managed Postgres: the provider's CA bundle); verification stays on",
    });
  });
  it('a certificate for another host names the host and what the certificate carries', () => {
    const e = Object.assign(new Error('x'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      host: 'db.example.com',
      cert: { subjectaltname: 'DNS:other.example' },
    });
    expect(explainTlsFailure(e, c)?.detail).toBe('the server certificate is not for the host db.example.com: it names DNS:other.example');
  });
  it('a server without TLS, and a server that demands it', () => {
    expect(explainTlsFailure(new Error('The server does not support SSL connections'), c)?.detail).toBe(
      'db.example.com does not accept TLS connections, but sslmode in source.url asks for sslmode=verify-full',
    );
    const hba = Object.assign(new Error('no pg_hba.conf entry for host "10.0.0.1", user "app", database "crm", no encryption'), {
      code: '28000',
    });
    expect(explainTlsFailure(hba, conn(remote))?.fix).toMatch(/^set sslmode=verify-full and sslrootcert in source\.url/);
  });
  it('leaves other failures alone', () => {
    expect(explainTlsFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), c)).toBeUndefined();
  });
});

describe('explainTlsFailureIn: which connection of the config an error fits', () => {
  it('picks the connection by the host in the error, and ignores chain errors where nothing is verified', async () => {
    const { validateConfig } = await import('../../src/config/load.js');
    const config = validateConfig({
      source: { url: 'postgres://app@crm.example.com/crm?sslmode=require' },
      state: { url: 'postgres://app@state.example.com/s?sslmode=verify-full&sslrootcert=system' },
      customers: { table: 'customers' },
    });
    const altname = Object.assign(new Error('x'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      host: 'state.example.com',
      cert: { subjectaltname: 'DNS:db.example.com' },
    });
    expect(explainTlsFailureIn(altname, config)?.fix).toMatch(/\(the host in state\.url\)/);
    const chain = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(explainTlsFailureIn(chain, config)?.detail).toBe(
      "the server certificate of state.example.com is not signed by a CA in this host's trusted CAs (sslrootcert=system) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    );
  });
});
