import { describe, expect, it } from 'vitest';
import { planPostgres, type FoundBinaries } from './plan.js';
import type { DockerEndpoint } from './docker-probe.js';

const machine =
  (majors: Record<string, string>) =>
  (major: string): FoundBinaries | undefined =>
    majors[major] ? { binDir: majors[major]!, origin: majors[major]! } : undefined;
const both = machine({ '15': '/usr/lib/postgresql/15/bin', '18': '/nm/pg18/bin' });
const docker: DockerEndpoint = { label: '/var/run/docker.sock', options: {}, tls: false };

describe('planPostgres', () => {
  it('runs 15 and 18 from binaries by default', () => {
    const plan = planPostgres({}, undefined, both);
    expect(plan.projects.map((p) => [p.name, p.source.kind])).toEqual([
      ['pg15', 'binaries'],
      ['pg18', 'binaries'],
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('collapses the matrix to one project on PG_TEST_URL, and says so', () => {
    const plan = planPostgres({ PG_TEST_URL: 'postgres://x@h/db' }, docker, both);
    expect(plan.projects).toEqual([{ name: 'pg', source: { kind: 'url', url: 'postgres://x@h/db' } }]);
    expect(plan.warnings[0]).toContain('PG_TEST_URL is set: the Postgres tests run on that one server only, not on PostgreSQL 15 and 18');
  });

  it('prefers an answering Docker engine, one container per major', () => {
    const plan = planPostgres({ PG_TEST_MAJORS: '15,17' }, docker, both);
    expect(plan.projects.map((p) => p.source)).toEqual([
      { kind: 'docker', major: '15', image: 'postgres:15-alpine', endpoint: '/var/run/docker.sock' },
      { kind: 'docker', major: '17', image: 'postgres:17-alpine', endpoint: '/var/run/docker.sock' },
    ]);
  });

  it('drops a default major the machine lacks, with a warning that says what to install', () => {
    const plan = planPostgres({}, undefined, machine({ '18': '/nm/pg18/bin' }));
    expect(plan.projects.map((p) => p.name)).toEqual(['pg18']);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings[0]).toContain('apt-get install postgresql-15');
    expect(plan.warnings[0]).toContain('ran on 18 only');
  });

  it('fails a major asked for by name, or the run when no major is available', () => {
    const asked = planPostgres({ PG_TEST_MAJORS: '15,17' }, undefined, both);
    expect(asked.projects.map((p) => [p.name, p.source.kind])).toEqual([
      ['pg15', 'binaries'],
      ['pg17', 'missing'],
    ]);
    const none = planPostgres({}, undefined, machine({}));
    expect(none.projects.map((p) => p.source.kind)).toEqual(['missing', 'missing']);
    const src = none.projects[0]!.source;
    expect(src.kind === 'missing' && src.message).toContain('or set PG_TEST_URL to a server with wal_level=logical');
  });
});
