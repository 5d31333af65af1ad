/**
 * The Kustomize tree (deploy/kubernetes): every agency overlay renders with `kubectl kustomize`,
 * every rendered object passes the Kubernetes API schemas (kubernetes-models: types, enums,
 * required fields; it does not flag unknown fields), each agency's config validates, and two
 * agencies never share a name, a slot, a publication, a state schema, a Secret or pods behind a
 * Service. Without kubectl the rendering tests are skipped and say so (.ci/run installs it).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

const AGENCIES_DIR = join('deploy', 'kubernetes', 'agencies');
const agencies = readdirSync(AGENCIES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function kubectlVersion(): string | undefined {
  try {
    return execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
const kubectl = kubectlVersion();
if (!kubectl) console.warn('kustomize tests SKIPPED: kubectl is not installed (Debian: apt-get install kubectl; .ci/run installs it)');

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

function render(agency: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(AGENCIES_DIR, agency)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

/** The kubernetes-models class for an object's apiVersion and kind (core group: `v1`). */
async function modelFor(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const mod = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = mod[o.kind];
  if (!model) throw new Error(`no Kubernetes schema for ${o.apiVersion} ${o.kind}`);
  return model;
}

const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const secretNames = (objs: K8sObject[]) =>
  [...byKind(objs, 'Deployment'), ...byKind(objs, 'Job')].flatMap((o) =>
    o.spec.template.spec.containers.flatMap((c: any) => (c.envFrom ?? []).map((e: any) => e.secretRef?.name)),
  );

function agencyConfig(objs: K8sObject[]) {
  const [cm] = byKind(objs, 'ConfigMap');
  const dir = mkdtempSync(join(tmpdir(), 'ccs-kustomize-'));
  try {
    writeFileSync(join(dir, 'config.yaml'), cm!.data['config.yaml']);
    return loadConfig({ path: join(dir, 'config.yaml'), env: { DATABASE_URL: 'postgres://x@db/crm', CARECYCLE_API_KEY: 'cc_test_key' } })
      .config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Kustomize: deploy/kubernetes', () => {
  it('has at least two agency overlays on one base', () => {
    expect(agencies.length).toBeGreaterThanOrEqual(2);
  });

  describe.skipIf(!kubectl)(kubectl ? 'rendered with kubectl kustomize' : 'SKIPPED: kubectl is not installed', () => {
    for (const agency of agencies) {
      it(`${agency}: every object passes the Kubernetes schemas; probes, user and config as the daemon needs`, async () => {
        const objs = render(agency);
        expect(objs.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Job', 'Service']);
        for (const o of objs) {
          const Model = await modelFor(o);
          expect(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
          expect(o.metadata.name.startsWith(`${agency}-`), o.metadata.name).toBe(true);
          expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(agency);
        }
        const [deployment] = byKind(objs, 'Deployment');
        const pod = deployment!.spec.template.spec;
        const c = pod.containers[0];
        expect(deployment!.spec.replicas).toBe(1);
        expect(deployment!.spec.strategy.type).toBe('Recreate');
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.ports[0].containerPort).toBe(8080);
        expect(c.env).toContainEqual({ name: 'PORT', value: '8080' });
        expect(pod.securityContext.runAsUser).toBe(10001);
        // The generated ConfigMap (its name carries a hash) is what the pods mount.
        const [cm] = byKind(objs, 'ConfigMap');
        for (const w of [deployment!, ...byKind(objs, 'Job')])
          expect(w.spec.template.spec.volumes[0].configMap.name).toBe(cm!.metadata.name);
        expect(secretNames(objs).every((s) => s === `${agency}-carecycle-sync`)).toBe(true);
        const [service] = byKind(objs, 'Service');
        expect(service!.spec.selector).toMatchObject({ 'app.kubernetes.io/instance': agency, 'app.kubernetes.io/component': 'daemon' });
        for (const [k, v] of Object.entries(service!.spec.selector)) expect(deployment!.spec.template.metadata.labels[k], k).toBe(v);
        agencyConfig(objs);
      });
    }

    it('a schema violation is caught (the validation can fail)', async () => {
      const [deployment] = byKind(render(agencies[0]!), 'Deployment');
      deployment!.spec.replicas = 'one';
      const Model = await modelFor(deployment!);
      expect(() => new Model(deployment).validate()).toThrow(/replicas/);
    });

    it('two agencies share no object name, slot, publication, state schema or Secret', () => {
      const seen = {
        names: new Set<string>(),
        slots: new Set<string>(),
        publications: new Set<string>(),
        schemas: new Set<string>(),
        secrets: new Set<string>(),
      };
      const add = (set: Set<string>, v: string, what: string) => {
        expect(set.has(v), `${what} ${v} is used by two agencies`).toBe(false);
        set.add(v);
      };
      for (const agency of agencies) {
        const objs = render(agency);
        for (const o of objs) add(seen.names, `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`, 'object');
        const config = agencyConfig(objs);
        add(seen.slots, config.source.slot, 'slot');
        add(seen.publications, config.source.publication, 'publication');
        add(seen.schemas, config.state.schema, 'state schema');
        add(seen.secrets, [...new Set(secretNames(objs))].join(','), 'Secret');
      }
    });
  });
});
