import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadVerificationKeys } from '@fleetwire/auth';
import { loadEdgeConfig } from '@fleetwire/edge';
import { loadIngestConfig } from '@fleetwire/ingest';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, exposedSeriesNames, serviceEnvNames } from './config-catalog.js';
import { kustomizeCommand, renderKustomization, type K8sObject } from './kustomize.js';

/** Schemas by apiVersion: the Kubernetes OpenAPI models and the Prometheus operator's CRDs. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  'monitoring.coreos.com/v1': monitoringV1,
};

type Model = new (data: unknown) => { validate(): void };

/** Secrets each overlay expects to exist in the cluster, made outside the repo. */
const EXTERNAL_SECRETS: Record<string, string[]> = {
  base: ['fleetwire-edge-secrets', 'fleetwire-ingest-secrets', 'fleetwire-tls'],
  'overlays/dev': ['fleetwire-tls'],
  'overlays/prod': ['fleetwire-edge-secrets', 'fleetwire-ingest-secrets', 'fleetwire-tls'],
};

const KINDS = [
  'ConfigMap/fleetwire-edge-config',
  'ConfigMap/fleetwire-ingest-config',
  'ConfigMap/fleetwire-jwt-keys',
  'Deployment/fleetwire-edge',
  'Deployment/fleetwire-ingest',
  'HorizontalPodAutoscaler/fleetwire-edge',
  'Ingress/fleetwire',
  'NetworkPolicy/fleetwire-edge',
  'NetworkPolicy/fleetwire-ingest',
  'PodDisruptionBudget/fleetwire-edge',
  'PodDisruptionBudget/fleetwire-ingest',
  'Service/fleetwire-edge',
  'Service/fleetwire-ingest',
  'Service/fleetwire-kafka',
  'Service/fleetwire-postgres',
  'Service/fleetwire-redis',
  'ServiceMonitor/fleetwire-edge',
  'ServiceMonitor/fleetwire-ingest',
];

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}

interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { configMap?: { name: string }; secret?: { secretName: string } }[];
}

/** One rendered overlay, indexed by kind and name; names are without kustomize's hash suffix. */
class Rendered {
  readonly objects: K8sObject[];

  constructor(objects: K8sObject[]) {
    // kustomize wraps long base64 Secret values over lines; the API server's base64 decoder skips
    // the line breaks, the schema's `byte` format does not.
    this.objects = objects.map((o) =>
      o.kind === 'Secret' && o['data']
        ? {
            ...o,
            data: Object.fromEntries(
              Object.entries(o['data'] as Record<string, string>).map(([k, v]) => [
                k,
                v.replace(/\s+/g, ''),
              ]),
            ),
          }
        : o,
    );
  }

  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }

  get(kind: string, name: string): K8sObject {
    const found = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind}/${name} rendered`);
    return found;
  }

  /** A generated ConfigMap/Secret by its base name (kustomize appends -<hash>). */
  generated(kind: 'ConfigMap' | 'Secret', name: string): K8sObject | undefined {
    return this.objects.find(
      (o) => o.kind === kind && (o.metadata.name === name || baseName(o.metadata.name) === name),
    );
  }

  pod(deployment: string): { labels: Record<string, string>; spec: PodSpec } {
    const spec = this.get('Deployment', deployment)['spec'] as {
      template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    };
    return { labels: spec.template.metadata.labels, spec: spec.template.spec };
  }

  /** Environment of a container as the kubelet would build it from its ConfigMaps and Secrets. */
  env(container: Container): Record<string, string> {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const ref = from.configMapRef?.name ?? from.secretRef?.name ?? '';
      const source = this.objects.find(
        (o) => (o.kind === 'ConfigMap' || o.kind === 'Secret') && o.metadata.name === ref,
      );
      if (!source) continue;
      const data = (source['data'] ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(data)) {
        env[key] = source.kind === 'Secret' ? Buffer.from(value, 'base64').toString() : value;
      }
    }
    return env;
  }
}

function baseName(generatedName: string): string {
  return generatedName.replace(/-[a-z0-9]{10}$/, '');
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const OVERLAYS = ['base', 'overlays/dev', 'overlays/prod'] as const;
const rendered = new Map<string, Rendered>();

beforeAll(() => {
  const command = kustomizeCommand(process.env);
  for (const overlay of OVERLAYS) {
    rendered.set(
      overlay,
      new Rendered(renderKustomization(command, join(REPO_ROOT, 'k8s', overlay))),
    );
  }
});

describe.each(OVERLAYS)('k8s/%s', (overlay) => {
  const r = (): Rendered => rendered.get(overlay)!;

  it('renders exactly the expected objects, each valid against its Kubernetes schema', () => {
    const objects = r().objects;
    expect(
      objects
        .filter((o) => o.kind !== 'Secret')
        .map(
          (o) =>
            `${o.kind}/${o.kind === 'ConfigMap' ? baseName(o.metadata.name) : o.metadata.name}`,
        )
        .sort(),
    ).toEqual(KINDS);
    for (const object of objects) {
      const model = MODELS[object.apiVersion]?.[object.kind] as Model | undefined;
      expect(model, `${object.apiVersion} ${object.kind} has a schema`).toBeDefined();
      expect(
        () => new model!(object).validate(),
        `${object.kind}/${object.metadata.name}`,
      ).not.toThrow();
    }
  });

  it('every ConfigMap and Secret referenced exists, or is one made outside the repo', () => {
    const external = EXTERNAL_SECRETS[overlay]!;
    const names = new Set(r().objects.map((o) => `${o.kind}/${o.metadata.name}`));
    const refs: string[] = [];
    for (const deployment of ['fleetwire-edge', 'fleetwire-ingest']) {
      const { spec } = r().pod(deployment);
      for (const c of spec.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) refs.push(`ConfigMap/${from.configMapRef.name}`);
          if (from.secretRef) refs.push(`Secret/${from.secretRef.name}`);
        }
      }
      for (const v of spec.volumes ?? [])
        if (v.configMap) refs.push(`ConfigMap/${v.configMap.name}`);
    }
    const ingress = r().get('Ingress', 'fleetwire')['spec'] as { tls: { secretName: string }[] };
    refs.push(...ingress.tls.map((t) => `Secret/${t.secretName}`));
    const missing = refs.filter((ref) => !names.has(ref));
    expect(missing.map((ref) => ref.replace(/^Secret\//, '')).sort()).toEqual([...external].sort());
  });

  it('containers run as non-root on a read-only root with requests and limits', () => {
    for (const deployment of ['fleetwire-edge', 'fleetwire-ingest']) {
      const { spec } = r().pod(deployment);
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('every variable given to a service is one its config declares, and the config loads', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fleetwire-k8s-'));
    try {
      for (const service of ['edge', 'ingest'] as const) {
        const [container] = r().pod(`fleetwire-${service}`).spec.containers;
        const env = r().env(container!);
        const names = [...Object.keys(env), ...(container!.env ?? []).map((e) => e.name)];
        const known = serviceEnvNames(service);
        expect(names.filter((n) => !known.has(n))).toEqual([]);

        // Values: what the secrets made outside the repo would hold, and the mounted key files.
        const keys = r().generated('ConfigMap', 'fleetwire-jwt-keys');
        for (const [file, text] of Object.entries(
          (keys?.['data'] ?? {}) as Record<string, string>,
        )) {
          writeFileSync(join(tmp, file), text);
        }
        const full: Record<string, string> = {
          FLEETWIRE_DATABASE_URL: 'postgres://user:pass@fleetwire-postgres:5432/fleetwire',
          FLEETWIRE_NODE_ID: 'pod-0',
          ...env,
        };
        for (const key of ['FLEETWIRE_JWT_JWKS_FILE', 'FLEETWIRE_JWT_PUBLIC_KEY_FILES']) {
          if (full[key]) full[key] = full[key].replace('/etc/fleetwire/jwt', tmp);
        }
        const config = service === 'edge' ? loadEdgeConfig(full, 'x') : loadIngestConfig(full, 'x');
        if (full['FLEETWIRE_JWT_HS256_SECRET'] || full['FLEETWIRE_JWT_JWKS_FILE']) {
          expect(loadVerificationKeys(config.auth).length).toBeGreaterThan(0);
        } else {
          // Base alone: the key source is in a Secret an overlay provides.
          expect(overlay).toBe('base');
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('edge: ready on /readyz, and the grace period covers preStop + drain window + last Kafka flush', () => {
    const { spec } = r().pod('fleetwire-edge');
    const [edge] = spec.containers;
    expect(edge!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(edge!.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const preStop = edge!.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    const env = r().env(edge!);
    const drainSec = Number(env['FLEETWIRE_DRAIN_WINDOW_MS']) / 1000;
    const flushSec = Number(env['FLEETWIRE_KAFKA_SEND_TIMEOUT_MS']) / 1000;
    expect(spec.terminationGracePeriodSeconds).toBe(Number(preStop[1]) + drainSec + flushSec + 5);
  });

  it('ingest: the grace period covers its shutdown timeout', () => {
    const { spec } = r().pod('fleetwire-ingest');
    const env = r().env(spec.containers[0]!);
    const shutdownSec = Number(env['FLEETWIRE_SHUTDOWN_TIMEOUT_MS']) / 1000;
    expect(spec.terminationGracePeriodSeconds).toBe(shutdownSec + 10);
  });

  it('Services, PDBs, NetworkPolicies and ServiceMonitors select the pods they are for', () => {
    for (const name of ['fleetwire-edge', 'fleetwire-ingest']) {
      const pod = r().pod(name);
      const service = r().get('Service', name)['spec'] as {
        selector: Record<string, string>;
        ports: { name: string; targetPort: string }[];
      };
      expect(selects(service.selector, pod.labels)).toBe(true);
      const portNames = pod.spec.containers[0]!.ports!.map((p) => p.name);
      for (const port of service.ports) expect(portNames).toContain(port.targetPort);

      const pdb = r().get('PodDisruptionBudget', name)['spec'] as {
        selector: { matchLabels: Record<string, string> };
      };
      expect(selects(pdb.selector.matchLabels, pod.labels)).toBe(true);

      const policy = r().get('NetworkPolicy', name)['spec'] as {
        podSelector: { matchLabels: Record<string, string> };
        ingress: { ports: { port: number }[] }[];
      };
      expect(selects(policy.podSelector.matchLabels, pod.labels)).toBe(true);
      const containerPort = pod.spec.containers[0]!.ports![0]!.containerPort;
      expect(policy.ingress.flatMap((rule) => rule.ports.map((p) => p.port))).toContain(
        containerPort,
      );

      const monitor = r().get('ServiceMonitor', name)['spec'] as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
      const serviceLabels = r().get('Service', name).metadata.labels ?? {};
      expect(selects(monitor.selector.matchLabels, serviceLabels)).toBe(true);
      expect(monitor.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s' }]);
    }
  });

  it('Ingress: TLS for every host, hour-long proxy timeouts, backends that exist', () => {
    const ingress = r().get('Ingress', 'fleetwire');
    const annotations = ingress.metadata['annotations'] as Record<string, string>;
    expect(
      Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']),
    ).toBeGreaterThanOrEqual(3600);
    expect(
      Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']),
    ).toBeGreaterThanOrEqual(3600);
    const spec = ingress['spec'] as {
      tls: { hosts: string[] }[];
      rules: {
        host: string;
        http: {
          paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[];
        };
      }[];
    };
    const tlsHosts = spec.tls.flatMap((t) => t.hosts);
    for (const rule of spec.rules) {
      expect(tlsHosts).toContain(rule.host);
      for (const path of rule.http.paths) {
        const service = r().get('Service', path.backend.service.name)['spec'] as {
          ports: { name: string }[];
        };
        expect(service.ports.map((p) => p.name)).toContain(path.backend.service.port.name);
      }
    }
    expect(spec.rules[0]!.http.paths.map((p) => p.path)).toEqual(['/ws', '/api', '/v1']);
  });

  it('HPA scales the edge Deployment on CPU and on connections per pod (a metric the edge exports)', async () => {
    const hpa = r().get('HorizontalPodAutoscaler', 'fleetwire-edge')['spec'] as {
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }[];
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'fleetwire-edge' });
    expect(hpa.metrics.map((m) => m.resource?.name ?? m.pods?.metric.name)).toEqual([
      'cpu',
      'fleetwire_edge_connections',
    ]);
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    // The adapter rule that serves the custom metric names it and reads a series the edge has.
    const adapter = parse(
      readFileSync(join(REPO_ROOT, 'k8s/prometheus-adapter/values.yaml'), 'utf8'),
    ) as {
      rules: { custom: { seriesQuery: string; name: { as: string } }[] };
    };
    const rule = adapter.rules.custom.find((c) => c.name.as === 'fleetwire_edge_connections');
    expect(rule).toBeDefined();
    const series = /^([a-z_]+)\{/.exec(rule!.seriesQuery)![1]!;
    expect((await exposedSeriesNames()).has(series)).toBe(true);
  });
});

describe('overlays differ where they should', () => {
  const images = (overlay: string): string[] =>
    ['fleetwire-edge', 'fleetwire-ingest'].map(
      (d) => rendered.get(overlay)!.pod(d).spec.containers[0]!.image,
    );

  it('dev runs the dev images in fleetwire-dev; prod pinned registry images in fleetwire', () => {
    expect(images('overlays/dev')).toEqual(['fleetwire/edge:dev', 'fleetwire/ingest:dev']);
    expect(images('overlays/prod')).toEqual([
      'registry.example.com/fleetwire/edge:0.1.0',
      'registry.example.com/fleetwire/ingest:0.1.0',
    ]);
    for (const [overlay, namespace] of [
      ['overlays/dev', 'fleetwire-dev'],
      ['overlays/prod', 'fleetwire'],
    ] as const) {
      const namespaces = new Set(rendered.get(overlay)!.objects.map((o) => o.metadata.namespace));
      expect([...namespaces]).toEqual([namespace]);
    }
  });

  it('prod points Redis, Kafka and PostgreSQL at the operators’ services', () => {
    const prod = rendered.get('overlays/prod')!;
    const external = Object.fromEntries(
      ['fleetwire-redis', 'fleetwire-kafka', 'fleetwire-postgres'].map((name) => [
        name,
        (prod.get('Service', name)['spec'] as { externalName: string }).externalName,
      ]),
    );
    expect(external).toEqual({
      'fleetwire-redis': 'fleetwire-redis.redis.svc.cluster.local',
      'fleetwire-kafka': 'fleetwire-kafka-kafka-bootstrap.kafka.svc.cluster.local',
      'fleetwire-postgres': 'fleetwire-pg-rw.postgres.svc.cluster.local',
    });
  });
});
