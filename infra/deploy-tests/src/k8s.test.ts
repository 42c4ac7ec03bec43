import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadVerificationKeys } from '@fleetwire/auth';
import { loadEdgeConfig } from '@fleetwire/edge';
import { loadIngestConfig } from '@fleetwire/ingest';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, exposedSeriesNames, serviceEnvNames } from './config-catalog.js';
import { CRD_SCHEMAS, validateSchema } from './crd-schemas.js';
import {
  Manifests,
  baseName,
  edgeGracePeriod,
  edgeMemoryBudget,
  fieldsNewerThanSupported,
  guaranteedQos,
  hpaHeadroom,
  imagesByDigest,
  memoryBudgetFits,
  monitorsSelectable,
  networkPolicies,
  noServiceAccountTokens,
  replicasUnderHpa,
  selects,
  type EgressAssumptions,
  type PrometheusSelectors,
} from './k8s-policy.js';
import { kustomizeCommand, renderKustomization, type K8sObject } from './kustomize.js';

/** Schemas by apiVersion: the Kubernetes OpenAPI models (1.34) and the Prometheus operator's. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'batch/v1': batchV1,
  'networking.k8s.io/v1': networkingV1,
  'policy/v1': policyV1,
  'monitoring.coreos.com/v1': monitoringV1,
};

type Model = new (data: unknown) => { validate(): void };

/** Secrets each overlay expects to exist in the cluster, made outside the repo. */
const EXTERNAL_SECRETS: Record<string, string[]> = {
  base: ['fleetwire-edge-secrets', 'fleetwire-ingest-secrets'],
  'overlays/dev': ['fleetwire-tls'],
  'overlays/prod': ['fleetwire-edge-secrets', 'fleetwire-ingest-secrets', 'fleetwire-tls'],
  'overlays/prod-ingress-nginx': [
    'fleetwire-edge-secrets',
    'fleetwire-ingest-secrets',
    'fleetwire-tls',
  ],
};

/**
 * For the egress check: what the Secrets made outside the repo hold (prod's operators), and what
 * the migration Job connects to (`migrate` opens the database only).
 */
const ASSUMED_SECRET_ENV: EgressAssumptions = {
  secrets: {
    'fleetwire-edge-secrets': {
      FLEETWIRE_REDIS_URL: 'rediss://user:pass@fleetwire-redis:6379',
      FLEETWIRE_DATABASE_URL: 'postgres://user:pass@fleetwire-postgres:5432/fleetwire',
    },
    'fleetwire-ingest-secrets': {
      FLEETWIRE_DATABASE_URL: 'postgres://user:pass@fleetwire-postgres:5432/fleetwire',
    },
  },
  uses: { 'fleetwire-migrate': ['FLEETWIRE_DATABASE_URL'] },
};

const WORKLOAD_KINDS = [
  'ConfigMap/fleetwire-edge-config',
  'ConfigMap/fleetwire-ingest-config',
  'ConfigMap/fleetwire-jwt-keys',
  'Deployment/fleetwire-edge',
  'Deployment/fleetwire-ingest',
  'HorizontalPodAutoscaler/fleetwire-edge',
  'Job/fleetwire-migrate',
  'NetworkPolicy/fleetwire-edge',
  'NetworkPolicy/fleetwire-ingest',
  'NetworkPolicy/fleetwire-migrate',
  'PodDisruptionBudget/fleetwire-edge',
  'PodDisruptionBudget/fleetwire-ingest',
  'Service/fleetwire-edge',
  'Service/fleetwire-ingest',
  'Service/fleetwire-kafka',
  'Service/fleetwire-postgres',
  'Service/fleetwire-redis',
  'ServiceAccount/fleetwire-edge',
  'ServiceAccount/fleetwire-ingest',
  'ServiceAccount/fleetwire-migrate',
  'ServiceMonitor/fleetwire-edge',
  'ServiceMonitor/fleetwire-ingest',
];
const GATEWAY_KINDS = [
  'BackendTrafficPolicy/fleetwire-edge',
  'ClientTrafficPolicy/fleetwire',
  'EnvoyProxy/fleetwire',
  'Gateway/fleetwire',
  'HTTPRoute/fleetwire-edge',
  'HTTPRoute/fleetwire-ingest',
  'PrometheusRule/fleetwire',
];
const KINDS: Record<string, string[]> = {
  base: WORKLOAD_KINDS,
  'overlays/dev': [...WORKLOAD_KINDS, ...GATEWAY_KINDS],
  'overlays/prod': [...WORKLOAD_KINDS, ...GATEWAY_KINDS],
  'overlays/prod-ingress-nginx': [...WORKLOAD_KINDS, ...GATEWAY_KINDS, 'Ingress/fleetwire'],
};

/** Variables a container may get besides its service's own: read by Node, not by the config. */
const RUNTIME_ENV = new Set(['NODE_OPTIONS']);

const OVERLAYS = ['base', 'overlays/dev', 'overlays/prod', 'overlays/prod-ingress-nginx'] as const;
const rendered = new Map<string, Manifests>();
let kafka: Manifests;
let prometheus: PrometheusSelectors;

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

beforeAll(() => {
  const command = kustomizeCommand(process.env);
  for (const overlay of OVERLAYS) {
    rendered.set(
      overlay,
      new Manifests(renderKustomization(command, join(REPO_ROOT, 'k8s', overlay))),
    );
  }
  kafka = new Manifests(renderKustomization(command, join(REPO_ROOT, 'k8s/kafka')));
  const values = parse(read('k8s/monitoring/kube-prometheus-stack-values.yaml')) as {
    prometheus: { prometheusSpec: PrometheusSelectors };
  };
  prometheus = values.prometheus.prometheusSpec;
});

/** Validation errors of one object: its Kubernetes model, or the CRD subset for custom kinds. */
function schemaErrors(object: K8sObject): string[] {
  const crd = CRD_SCHEMAS[`${object.apiVersion}/${object.kind}`];
  if (crd) return validateSchema(object, crd);
  const model = MODELS[object.apiVersion]?.[object.kind] as Model | undefined;
  if (!model) return [`${object.apiVersion} ${object.kind} has no schema`];
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [String(error)];
  }
}

describe.each(OVERLAYS)('k8s/%s', (overlay) => {
  const r = (): Manifests => rendered.get(overlay)!;

  it('renders exactly the expected objects, each valid against its schema', () => {
    expect(
      r()
        .objects.filter((o) => o.kind !== 'Secret')
        .map(
          (o) =>
            `${o.kind}/${o.kind === 'ConfigMap' ? baseName(o.metadata.name) : o.metadata.name}`,
        )
        .sort(),
    ).toEqual([...KINDS[overlay]!].sort());
    for (const object of r().objects) {
      expect(schemaErrors(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
    }
  });

  it('every ConfigMap and Secret referenced exists, or is one made outside the repo', () => {
    const names = new Set(r().objects.map((o) => `${o.kind}/${o.metadata.name}`));
    const refs: string[] = [];
    for (const workload of r().workloads()) {
      const { spec } = r().pod(workload);
      for (const c of spec.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) refs.push(`ConfigMap/${from.configMapRef.name}`);
          if (from.secretRef) refs.push(`Secret/${from.secretRef.name}`);
        }
      }
      for (const v of spec.volumes ?? [])
        if (v.configMap) refs.push(`ConfigMap/${v.configMap.name}`);
      if (spec.serviceAccountName) refs.push(`ServiceAccount/${spec.serviceAccountName}`);
    }
    for (const ingress of r().all('Ingress'))
      refs.push(
        ...(ingress['spec'] as { tls: { secretName: string }[] }).tls.map(
          (t) => `Secret/${t.secretName}`,
        ),
      );
    for (const gateway of r().all('Gateway'))
      for (const l of (
        gateway['spec'] as { listeners: { tls?: { certificateRefs: { name: string }[] } }[] }
      ).listeners)
        refs.push(...(l.tls?.certificateRefs ?? []).map((c) => `Secret/${c.name}`));
    const missing = [...new Set(refs.filter((ref) => !names.has(ref)))];
    expect(missing.map((ref) => ref.replace(/^Secret\//, '')).sort()).toEqual(
      [...EXTERNAL_SECRETS[overlay]!].sort(),
    );
  });

  it('pods run as non-root on a read-only root, without a service-account token', () => {
    for (const workload of r().workloads()) {
      const { spec } = r().pod(workload);
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
      }
    }
    expect(noServiceAccountTokens(r())).toEqual([]);
    for (const account of r().all('ServiceAccount'))
      expect(account['automountServiceAccountToken']).toBe(false);
  });

  it('policy: no replicas on a workload an HPA scales', () => {
    expect(replicasUnderHpa(r())).toEqual([]);
  });

  it('policy: the edge and ingest are Guaranteed QoS (requests = limits)', () => {
    expect(guaranteedQos(r(), ['fleetwire-edge', 'fleetwire-ingest'])).toEqual([]);
  });

  it('policy: the edge grace period covers preStop + drain window + last Kafka flush + 5 s', () => {
    const { spec } = r().pod('fleetwire-edge');
    const [edge] = spec.containers;
    expect(edge!.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(edge!.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(edgeGracePeriod(r())).toEqual([]);
  });

  it('policy: the edge memory worst case fits its limit, the heap cap holds the Kafka buffer', () => {
    expect(memoryBudgetFits(r())).toEqual([]);
    const budget = edgeMemoryBudget(r());
    expect(budget.totalMiB).toBeGreaterThan(0.5 * budget.limitMiB); // the limit is not oversized either
  });

  it('policy: every ServiceMonitor and PrometheusRule is selected by the stack’s Prometheus', () => {
    expect(monitorsSelectable(r(), prometheus)).toEqual([]);
  });

  it('policy: every pod is under a NetworkPolicy allowing DNS anywhere and the egress it needs', () => {
    expect(networkPolicies(r(), ASSUMED_SECRET_ENV)).toEqual([]);
  });

  it('policy: no field newer than the oldest supported Kubernetes', () => {
    expect(fieldsNewerThanSupported(r())).toEqual([]);
  });

  it('policy: the HPA target leaves room for a lost zone under the per-pod cap', () => {
    expect(hpaHeadroom(r())).toEqual([]);
  });

  it('every variable given to a service is one its config declares, and the config loads', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fleetwire-k8s-'));
    try {
      for (const service of ['edge', 'ingest'] as const) {
        const [container] = r().pod(`fleetwire-${service}`).spec.containers;
        const env = r().env(container!);
        const names = [...Object.keys(env), ...(container!.env ?? []).map((e) => e.name)];
        const known = serviceEnvNames(service);
        expect(names.filter((n) => !known.has(n) && !RUNTIME_ENV.has(n))).toEqual([]);

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
        } else if (full['FLEETWIRE_JWT_JWKS_URL']) {
          // Fetched at start from the issuer (no network here): the URL is what reaches the config.
          expect(JSON.stringify(config.auth)).toContain(full['FLEETWIRE_JWT_JWKS_URL']);
        } else {
          // Base alone: the key source is in a Secret an overlay provides.
          expect(overlay).toBe('base');
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the migration Job runs the ingest image’s migrate with the ingest configuration', () => {
    const job = r().get('Job', 'fleetwire-migrate');
    const [migrate] = r().pod(job).spec.containers;
    const [ingest] = r().pod('fleetwire-ingest').spec.containers;
    expect(migrate!.image).toBe(ingest!.image);
    expect(migrate!.command).toEqual(['node', 'dist/main.js', 'migrate']);
    expect(migrate!.envFrom).toEqual(ingest!.envFrom);
    expect(
      (job['spec'] as { template: { spec: { restartPolicy: string } } }).template.spec
        .restartPolicy,
    ).toBe('Never');
  });

  it('ingest: the grace period covers its shutdown timeout', () => {
    const { spec } = r().pod('fleetwire-ingest');
    const env = r().env(spec.containers[0]!);
    const shutdownSec = Number(env['FLEETWIRE_SHUTDOWN_TIMEOUT_MS']) / 1000;
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(shutdownSec + 10);
  });

  it('Services, PDBs and NetworkPolicies select the pods they are for; metrics relabelled', () => {
    for (const name of ['fleetwire-edge', 'fleetwire-ingest']) {
      const pod = r().pod(name);
      const service = r().get('Service', name)['spec'] as {
        selector: Record<string, string>;
        ports: { name: string; targetPort: string }[];
      };
      expect(selects({ matchLabels: service.selector }, pod.labels)).toBe(true);
      const portNames = pod.spec.containers[0]!.ports!.map((p) => p.name);
      for (const port of service.ports) expect(portNames).toContain(port.targetPort);

      const pdb = r().get('PodDisruptionBudget', name)['spec'] as {
        selector: { matchLabels: Record<string, string> };
        unhealthyPodEvictionPolicy: string;
      };
      expect(selects(pdb.selector, pod.labels)).toBe(true);
      expect(pdb.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');

      const policy = r().get('NetworkPolicy', name)['spec'] as {
        ingress: { ports: { port: number }[] }[];
      };
      const containerPort = pod.spec.containers[0]!.ports![0]!.containerPort;
      expect(policy.ingress.flatMap((rule) => rule.ports.map((p) => p.port))).toContain(
        containerPort,
      );

      const monitor = r().get('ServiceMonitor', name)['spec'] as {
        endpoints: {
          metricRelabelings: { action: string; regex?: string; targetLabel?: string }[];
        }[];
      };
      // The services' own `service` label arrives as exported_service: kept under another name.
      expect(monitor.endpoints[0]!.metricRelabelings).toContainEqual(
        expect.objectContaining({ action: 'labeldrop', regex: 'exported_service' }),
      );
    }
  });

  it('HPA scales the edge on connections per pod (a metric the edge exports) and CPU, by percent', async () => {
    const hpa = r().get('HorizontalPodAutoscaler', 'fleetwire-edge')['spec'] as {
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }[];
      behavior: { scaleUp: { policies: { type: string; value: number }[] } };
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'fleetwire-edge' });
    expect(hpa.metrics.map((m) => m.resource?.name ?? m.pods?.metric.name)).toEqual([
      'fleetwire_edge_connections',
      'cpu',
    ]);
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    expect(hpa.behavior.scaleUp.policies).toContainEqual(
      expect.objectContaining({ type: 'Percent', value: 100 }),
    );
    const adapter = parse(read('k8s/prometheus-adapter/values.yaml')) as {
      rules: { custom: { seriesQuery: string; name: { as: string } }[] };
    };
    const rule = adapter.rules.custom.find((c) => c.name.as === 'fleetwire_edge_connections');
    expect(rule).toBeDefined();
    const series = /^([a-z_]+)\{/.exec(rule!.seriesQuery)![1]!;
    expect((await exposedSeriesNames()).has(series)).toBe(true);
  });
});

describe('the way in', () => {
  const ways = ['overlays/dev', 'overlays/prod', 'overlays/prod-ingress-nginx'] as const;
  const edgeEnv = (overlay: string): Record<string, string> => {
    const r = rendered.get(overlay)!;
    return r.env(r.pod('fleetwire-edge').spec.containers[0]!);
  };
  /** The edge pings a silent socket after idleTimeout − uWS's margin (4, 8 or 16 s). */
  const pingAfterSec = (overlay: string): number => {
    const idle = Number(edgeEnv(overlay)['FLEETWIRE_IDLE_TIMEOUT_SEC'] ?? 120);
    let margin = 4;
    while (idle - margin * 2 >= margin * 2 && margin < 16) margin *= 2;
    return idle - margin;
  };
  const seconds = (d: string): number => {
    const m = /^(\d+)(h|m|s)$/.exec(d);
    if (!m) throw new Error(`duration ${d}`);
    return Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2] as 'h' | 'm' | 's'];
  };

  it.each(ways)(
    '%s: HTTPRoutes attach to the Gateway’s listener and reach Services that exist',
    (overlay) => {
      const r = rendered.get(overlay)!;
      const gateway = r.get('Gateway', 'fleetwire')['spec'] as {
        listeners: { name: string; hostname: string; protocol: string }[];
      };
      const paths: string[] = [];
      for (const route of r.all('HTTPRoute')) {
        const spec = route['spec'] as {
          parentRefs: { name: string; sectionName: string }[];
          hostnames: string[];
          rules: {
            matches: { path: { value: string } }[];
            timeouts?: { request?: string };
            backendRefs: { name: string; port: number }[];
          }[];
        };
        for (const parent of spec.parentRefs) {
          expect(parent.name).toBe('fleetwire');
          const listener = gateway.listeners.find((l) => l.name === parent.sectionName);
          expect(listener?.protocol).toBe('HTTPS');
          for (const host of spec.hostnames) expect(host).toBe(listener!.hostname);
        }
        for (const rule of spec.rules) {
          paths.push(...rule.matches.map((m) => m.path.value));
          for (const backend of rule.backendRefs) {
            const service = r.get('Service', backend.name)['spec'] as { ports: { port: number }[] };
            expect(service.ports.map((p) => p.port)).toContain(backend.port);
          }
          // WebSockets: no request timeout (Envoy's 15 s default would cut every socket).
          if (rule.matches.some((m) => m.path.value === '/ws' || m.path.value === '/mqtt'))
            expect(rule.timeouts?.request).toBe('0s');
        }
      }
      expect(paths.sort()).toEqual(['/api', '/mqtt', '/v1', '/v1/devices/[^/]+/state', '/ws']);
      const policy = r.get('BackendTrafficPolicy', 'fleetwire-edge')['spec'] as {
        loadBalancer: { type: string };
      };
      expect(policy.loadBalancer.type).toBe('LeastRequest');
    },
  );

  it.each(ways)(
    '%s: every idle timeout on the path is ≥ 3× the edge’s ping interval',
    (overlay) => {
      const r = rendered.get(overlay)!;
      const ping = pingAfterSec(overlay);
      expect(ping).toBe(104);
      const client = r.get('ClientTrafficPolicy', 'fleetwire')['spec'] as {
        timeout: { http: { idleTimeout: string; streamIdleTimeout: string } };
      };
      expect(seconds(client.timeout.http.idleTimeout)).toBeGreaterThanOrEqual(3 * ping);
      expect(seconds(client.timeout.http.streamIdleTimeout)).toBeGreaterThanOrEqual(3 * ping);
      const proxy = r.get('EnvoyProxy', 'fleetwire')['spec'] as {
        provider: {
          kubernetes: {
            envoyService: {
              type: string;
              externalTrafficPolicy: string;
              annotations?: Record<string, string>;
            };
          };
        };
      };
      const service = proxy.provider.kubernetes.envoyService;
      expect(service).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
      const lbIdle = Object.entries(service.annotations ?? {}).find(([k]) =>
        k.startsWith('service.beta.kubernetes.io/aws-load-balancer-listener-attributes.'),
      )?.[1];
      if (overlay !== 'overlays/dev') {
        expect(
          Number(/tcp\.idle_timeout\.seconds=(\d+)/.exec(lbIdle ?? '')?.[1]),
        ).toBeGreaterThanOrEqual(3 * ping);
      }
      for (const ingress of r.all('Ingress')) {
        const annotations = ingress.metadata['annotations'] as Record<string, string>;
        for (const key of ['proxy-read-timeout', 'proxy-send-timeout'])
          expect(Number(annotations[`nginx.ingress.kubernetes.io/${key}`])).toBeGreaterThanOrEqual(
            3 * ping,
          );
      }
    },
  );

  it('access logs keep no query string (a ?token= stays out of them)', () => {
    const proxy = rendered.get('overlays/prod')!.get('EnvoyProxy', 'fleetwire')['spec'] as {
      telemetry: { accessLog: { settings: { format: { type: string; text: string } }[] } };
    };
    for (const setting of proxy.telemetry.accessLog.settings) {
      const format = setting.format.text;
      expect(format).toContain('%REQ_WITHOUT_QUERY(');
      // Envoy operators that print the path with its query.
      expect(format).not.toMatch(/%REQ\((:PATH|X-ENVOY-ORIGINAL-PATH\?:PATH)\)%/);
    }
    const nginx = parse(read('k8s/components/ingress-nginx/controller-values.yaml')) as {
      controller: { config: Record<string, string>; service: { externalTrafficPolicy: string } };
    };
    const format = nginx.controller.config['log-format-upstream']!;
    expect(format).toContain('$uri');
    // nginx variables with the query: $request (the request line), $request_uri, $args, $query_string, $arg_*.
    expect(format).not.toMatch(/\$(request(?![_a-z])|request_uri|args|query_string|arg_)/);
    expect(nginx.controller.service.externalTrafficPolicy).toBe('Local');
  });

  it('the policies above can fail: each one reports a broken copy', () => {
    const prod = rendered.get('overlays/prod')!;
    const withReplicas = prod.with('Deployment', 'fleetwire-edge', (d) => {
      (d['spec'] as { replicas?: number }).replicas = 3;
    });
    expect(replicasUnderHpa(withReplicas)).toEqual([
      'Deployment/fleetwire-edge sets replicas while HorizontalPodAutoscaler/fleetwire-edge scales it',
    ]);
    const burstable = prod.with('Deployment', 'fleetwire-edge', (d) => {
      const c = (
        d['spec'] as {
          template: { spec: { containers: { resources: { requests: { memory: string } } }[] } };
        }
      ).template.spec.containers[0]!;
      c.resources.requests.memory = '1Gi';
    });
    expect(guaranteedQos(burstable, ['fleetwire-edge'])).toEqual([
      'fleetwire-edge/edge: memory request 1Gi ≠ limit 2Gi',
    ]);
    const shortGrace = prod.with('Deployment', 'fleetwire-edge', (d) => {
      (
        d['spec'] as { template: { spec: { terminationGracePeriodSeconds: number } } }
      ).template.spec.terminationGracePeriodSeconds = 30;
    });
    expect(edgeGracePeriod(shortGrace)).toEqual([
      'fleetwire-edge: terminationGracePeriodSeconds 30 < preStop 5 + drain 30 + flush 10 + 5 = 50',
    ]);
    const unselected = prod.with('ServiceMonitor', 'fleetwire-edge', (s) => {
      delete s.metadata.labels!['release'];
    });
    expect(monitorsSelectable(unselected, prometheus)).toEqual([
      'ServiceMonitor/fleetwire-edge: labels not matched by the Prometheus serviceMonitorSelector',
    ]);
    const kubeSystemDns = prod.with('NetworkPolicy', 'fleetwire-edge', (p) => {
      const egress = (p['spec'] as { egress: Record<string, unknown>[] }).egress;
      egress[0]!['to'] = [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
      ];
    });
    expect(networkPolicies(kubeSystemDns, ASSUMED_SECRET_ENV)).toEqual([
      'Deployment/fleetwire-edge: DNS (53/UDP) not allowed to any address',
      'Deployment/fleetwire-edge: DNS (53/TCP) not allowed to any address',
    ]);
    const noKafkaTls = prod.with('NetworkPolicy', 'fleetwire-ingest', (p) => {
      const egress = (p['spec'] as { egress: { ports?: { port: number }[] }[] }).egress;
      egress[1]!.ports = egress[1]!.ports!.filter((port) => port.port !== 5432);
    });
    expect(networkPolicies(noKafkaTls, ASSUMED_SECRET_ENV)).toEqual([
      'Deployment/fleetwire-ingest: egress to PostgreSQL (port 5432) not allowed',
    ]);
    const edgeWithoutState = prod.with('NetworkPolicy', 'fleetwire-edge', (p) => {
      const egress = (p['spec'] as { egress: { ports?: { port: number }[] }[] }).egress;
      egress[1]!.ports = egress[1]!.ports!.filter((port) => port.port !== 5432);
    });
    expect(networkPolicies(edgeWithoutState, ASSUMED_SECRET_ENV)).toEqual([
      'Deployment/fleetwire-edge: egress to PostgreSQL (port 5432) not allowed',
    ]);
    const bigBackpressure = prod.with('Deployment', 'fleetwire-edge', (d) => {
      const c = (
        d['spec'] as {
          template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
        }
      ).template.spec.containers[0]!;
      c.env.push({ name: 'FLEETWIRE_MAX_BACKPRESSURE_BYTES', value: '1048576' });
    });
    expect(memoryBudgetFits(bigBackpressure)).toHaveLength(1);
    const newField = prod.with('PodDisruptionBudget', 'fleetwire-edge', (p) => {
      (p['spec'] as Record<string, unknown>)['trafficDistribution'] = 'x';
    });
    expect(fieldsNewerThanSupported(newField, 30)).toEqual([
      'PodDisruptionBudget/fleetwire-edge/spec/trafficDistribution: Service trafficDistribution needs Kubernetes 1.31, the oldest supported is 1.30',
    ]);
    const tokenMounted = prod.with('Job', 'fleetwire-migrate', (j) => {
      delete (j['spec'] as { template: { spec: Record<string, unknown> } }).template.spec[
        'automountServiceAccountToken'
      ];
    });
    expect(noServiceAccountTokens(tokenMounted)).toEqual([
      'Job/fleetwire-migrate: automountServiceAccountToken is not false',
    ]);
    const typo = structuredClone(prod.get('HTTPRoute', 'fleetwire-edge'));
    (typo['spec'] as { rules: Record<string, unknown>[] }).rules[0]!['timeout'] = { request: '0s' };
    expect(schemaErrors(typo)).toEqual(['/spec/rules/0/timeout: unknown field']);
  });
});

describe('overlays differ where they should', () => {
  const images = (overlay: string): string[] =>
    ['fleetwire-edge', 'fleetwire-ingest'].map(
      (d) => rendered.get(overlay)!.pod(d).spec.containers[0]!.image,
    );

  it('dev runs the dev images in fleetwire-dev; prod registry images by digest in fleetwire', () => {
    expect(images('overlays/dev')).toEqual(['fleetwire/edge:dev', 'fleetwire/ingest:dev']);
    expect(images('overlays/prod')).toEqual([
      expect.stringMatching(/^registry\.example\.com\/fleetwire\/edge@sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^registry\.example\.com\/fleetwire\/ingest@sha256:[0-9a-f]{64}$/),
    ]);
    expect(imagesByDigest(rendered.get('overlays/prod')!)).toEqual([]);
    expect(imagesByDigest(rendered.get('overlays/dev')!)).toHaveLength(3);
    for (const [overlay, namespace] of [
      ['overlays/dev', 'fleetwire-dev'],
      ['overlays/prod', 'fleetwire'],
      ['overlays/prod-ingress-nginx', 'fleetwire'],
    ] as const) {
      const namespaces = new Set(rendered.get(overlay)!.objects.map((o) => o.metadata.namespace));
      expect([...namespaces]).toEqual([namespace]);
    }
  });

  it('prod is sized for the stated fleet (k8s/README.md, "Scaling")', () => {
    const prod = rendered.get('overlays/prod')!;
    const hpa = prod.get('HorizontalPodAutoscaler', 'fleetwire-edge')['spec'] as {
      minReplicas: number;
      maxReplicas: number;
      metrics: { pods?: { target: { averageValue: string } } }[];
    };
    const target = Number(hpa.metrics[0]!.pods!.target.averageValue);
    const cap = Number(
      prod.env(prod.pod('fleetwire-edge').spec.containers[0]!)['FLEETWIRE_MAX_CONNECTIONS'],
    );
    const FLEET = 300_000;
    expect(Math.ceil(FLEET / target)).toBeLessThanOrEqual(hpa.maxReplicas * 0.7); // 30 % to grow
    expect(hpa.maxReplicas * cap).toBeGreaterThanOrEqual(2 * FLEET); // a storm fits at the cap
    expect(hpa.minReplicas * cap).toBeGreaterThanOrEqual(0.5 * FLEET); // half lands at once
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

describe('k8s/kafka (Strimzi topics)', () => {
  it('the topics the services name, RF 3 with min ISR 2, enough partitions for the workers', () => {
    for (const topic of kafka.objects) expect(schemaErrors(topic), topic.metadata.name).toEqual([]);
    const prod = rendered.get('overlays/prod')!;
    const edgeEnv = prod.env(prod.pod('fleetwire-edge').spec.containers[0]!);
    const ingestEnv = prod.env(prod.pod('fleetwire-ingest').spec.containers[0]!);
    const names = kafka.objects.map((t) => t.metadata.name).sort();
    expect(names).toEqual(
      [
        ...new Set([
          edgeEnv['FLEETWIRE_KAFKA_TOPIC'],
          ingestEnv['FLEETWIRE_TELEMETRY_TOPIC'],
          ingestEnv['FLEETWIRE_DLQ_TOPIC'],
        ]),
      ].sort(),
    );
    // The Topic Operator of the Kafka the prod overlay points at.
    const bootstrap = (prod.get('Service', 'fleetwire-kafka')['spec'] as { externalName: string })
      .externalName;
    for (const topic of kafka.objects) {
      const spec = topic['spec'] as {
        partitions: number;
        replicas: number;
        config: Record<string, unknown>;
      };
      expect(topic.metadata.labels?.['strimzi.io/cluster']).toBe('fleetwire-kafka');
      expect(bootstrap).toBe(
        `${topic.metadata.labels!['strimzi.io/cluster']}-kafka-bootstrap.${topic.metadata.namespace}.svc.cluster.local`,
      );
      expect(spec.replicas).toBe(3);
      expect(spec.config['min.insync.replicas']).toBe(2);
      expect(spec.config['unclean.leader.election.enable']).toBe(false);
    }
    const telemetry = kafka.get('KafkaTopic', 'telemetry')['spec'] as {
      partitions: number;
      config: Record<string, number>;
    };
    const replicas = (prod.get('Deployment', 'fleetwire-ingest')['spec'] as { replicas: number })
      .replicas;
    expect(telemetry.partitions).toBeGreaterThanOrEqual(4 * replicas);
    expect(telemetry.partitions % 3).toBe(0);
    // One edge produce batch of full-size payloads fits one record batch.
    expect(telemetry.config['max.message.bytes']).toBeGreaterThanOrEqual(500 * 16_384);
    const dev = parse(read('k8s/kafka/bitnami-dev-values.yaml')) as {
      provisioning: { topics: { name: string }[] };
    };
    expect(dev.provisioning.topics.map((t) => t.name).sort()).toEqual(names);
  });
});
