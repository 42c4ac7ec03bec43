// Longer than the house limit: one table of policies over the rendered manifests, each a short
// named check; they read best side by side.
/**
 * Policies the rendered manifests must keep, as functions that list violations (empty: kept).
 * k8s.test.ts runs them on every overlay, and on deliberately broken copies to show each one can
 * fail. The reasoning behind each is in k8s/README.md.
 */
import type { K8sObject } from './kustomize.js';

export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}

export interface PodSpec {
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { configMap?: { name: string }; secret?: { secretName: string } }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

/** Kinds whose pods the policies look at. */
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/** One rendered overlay, indexed by kind and name; generated names are without their hash. */
export class Manifests {
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

  find(kind: string, name: string): K8sObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }

  get(kind: string, name: string): K8sObject {
    const found = this.find(kind, name);
    if (!found) throw new Error(`no ${kind}/${name} rendered`);
    return found;
  }

  /** A generated ConfigMap/Secret by its base name (kustomize appends -<hash>). */
  generated(kind: 'ConfigMap' | 'Secret', name: string): K8sObject | undefined {
    return this.objects.find(
      (o) => o.kind === kind && (o.metadata.name === name || baseName(o.metadata.name) === name),
    );
  }

  workloads(): K8sObject[] {
    return this.objects.filter((o) => WORKLOADS.has(o.kind));
  }

  pod(workload: K8sObject | string): { labels: Record<string, string>; spec: PodSpec } {
    const object = typeof workload === 'string' ? this.get('Deployment', workload) : workload;
    const spec = object['spec'] as {
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
    for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    return env;
  }

  /** A copy with `change` applied to a deep clone of one object: for showing a policy can fail. */
  with(kind: string, name: string, change: (object: K8sObject) => void): Manifests {
    const objects = this.objects.map((o) => {
      if (o.kind !== kind || o.metadata.name !== name) return o;
      const copy = structuredClone(o);
      change(copy);
      return copy;
    });
    return new Manifests(objects);
  }
}

export function baseName(generatedName: string): string {
  return generatedName.replace(/-[a-z0-9]{10}$/, '');
}

/** matchLabels only (the manifests use no expressions; an expression fails the match). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>) {
  if (!selector) return false;
  if ((selector.matchExpressions ?? []).length > 0) return false;
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

const ref = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

/** A workload an HPA scales must not set `replicas`: every apply would reset the HPA's count. */
export function replicasUnderHpa(m: Manifests): string[] {
  return m.all('HorizontalPodAutoscaler').flatMap((hpa) => {
    const target = (hpa['spec'] as { scaleTargetRef: { kind: string; name: string } })
      .scaleTargetRef;
    const workload = m.find(target.kind, target.name);
    if (!workload)
      return [`${ref(hpa)} scales ${target.kind}/${target.name}, which is not rendered`];
    return (workload['spec'] as { replicas?: number }).replicas === undefined
      ? []
      : [`${ref(workload)} sets replicas while ${ref(hpa)} scales it`];
  });
}

/** Every container of the named workloads: requests = limits for cpu and memory (Guaranteed). */
export function guaranteedQos(m: Manifests, workloads: string[]): string[] {
  return workloads.flatMap((name) =>
    m.pod(name).spec.containers.flatMap((c) =>
      ['cpu', 'memory'].flatMap((resource) => {
        const request = c.resources?.requests?.[resource];
        const limit = c.resources?.limits?.[resource];
        if (request === undefined || limit === undefined)
          return [`${name}/${c.name}: ${resource} request and limit must both be set`];
        return quantity(request) === quantity(limit)
          ? []
          : [`${name}/${c.name}: ${resource} request ${request} ≠ limit ${limit}`];
      }),
    ),
  );
}

/** A Kubernetes quantity in base units (cores or bytes). */
export function quantity(q: string): number {
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(q);
  if (!match) throw new Error(`not a quantity: ${q}`);
  const units: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
  };
  const unit = units[match[2]!];
  if (unit === undefined) throw new Error(`unknown unit in ${q}`);
  return Number(match[1]) * unit;
}

/**
 * The edge's grace period covers what SIGTERM starts: the preStop pause, the drain window, the
 * last Kafka flush, and at least 5 s of slack for the process to exit.
 */
export function edgeGracePeriod(m: Manifests, deployment = 'fleetwire-edge'): string[] {
  const { spec } = m.pod(deployment);
  const container = spec.containers[0]!;
  const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
  const preStopSec = preStop[0] === 'sleep' ? Number(preStop[1]) : NaN;
  const env = m.env(container);
  const drainSec = Number(env['FLEETWIRE_DRAIN_WINDOW_MS'] ?? 10_000) / 1000;
  const flushSec = Number(env['FLEETWIRE_KAFKA_SEND_TIMEOUT_MS'] ?? 10_000) / 1000;
  const needed = preStopSec + drainSec + flushSec + 5;
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (Number.isNaN(needed)) return [`${deployment}: no preStop sleep to count`];
  return grace >= needed
    ? []
    : [
        `${deployment}: terminationGracePeriodSeconds ${grace} < preStop ${preStopSec} + drain ${drainSec} + flush ${flushSec} + 5 = ${needed}`,
      ];
}

export interface PrometheusSelectors {
  serviceMonitorSelector: LabelSelector;
  ruleSelector: LabelSelector;
}

/**
 * Every ServiceMonitor is picked by the Prometheus (its labels match the serviceMonitorSelector)
 * and finds its target (a Service of its namespace with the labels and the named port); every
 * PrometheusRule is picked by the ruleSelector.
 */
export function monitorsSelectable(m: Manifests, prometheus: PrometheusSelectors): string[] {
  const problems: string[] = [];
  for (const monitor of m.all('ServiceMonitor')) {
    if (!selects(prometheus.serviceMonitorSelector, monitor.metadata.labels ?? {}))
      problems.push(`${ref(monitor)}: labels not matched by the Prometheus serviceMonitorSelector`);
    const spec = monitor['spec'] as {
      selector: LabelSelector;
      endpoints: { port?: string }[];
    };
    const services = m
      .all('Service')
      .filter(
        (s) =>
          s.metadata.namespace === monitor.metadata.namespace &&
          selects(spec.selector, s.metadata.labels ?? {}),
      );
    if (services.length === 0) problems.push(`${ref(monitor)}: selects no Service`);
    for (const endpoint of spec.endpoints) {
      for (const service of services) {
        const ports = (service['spec'] as { ports: { name?: string }[] }).ports;
        if (!ports.some((p) => p.name === endpoint.port))
          problems.push(`${ref(monitor)}: ${ref(service)} has no port ${endpoint.port}`);
      }
    }
  }
  for (const rule of m.all('PrometheusRule')) {
    if (!selects(prometheus.ruleSelector, rule.metadata.labels ?? {}))
      problems.push(`${ref(rule)}: labels not matched by the Prometheus ruleSelector`);
  }
  return problems;
}

interface NetworkPolicyRule {
  to?: {
    ipBlock?: { cidr: string };
    namespaceSelector?: LabelSelector;
    podSelector?: LabelSelector;
  }[];
  ports?: { port?: number; protocol?: string }[];
}

function policySpec(p: K8sObject): {
  podSelector: LabelSelector;
  policyTypes?: string[];
  egress?: NetworkPolicyRule[];
} {
  return p['spec'] as ReturnType<typeof policySpec>;
}

/** An egress rule that lets `port/protocol` out to any address (no `to`, or 0.0.0.0/0). */
function allowsAnywhere(rule: NetworkPolicyRule, port: number, protocol: string): boolean {
  const toAnywhere =
    rule.to === undefined ||
    rule.to.length === 0 ||
    rule.to.some((t) => t.ipBlock?.cidr === '0.0.0.0/0');
  return toAnywhere && allowsPort(rule, port, protocol);
}

function allowsPort(rule: NetworkPolicyRule, port: number, protocol: string): boolean {
  return (
    rule.ports === undefined ||
    rule.ports.some(
      (p) => (p.port === undefined || p.port === port) && (p.protocol ?? 'TCP') === protocol,
    )
  );
}

/** Ports a workload's configuration says it connects to, by what it reaches. */
export function neededEgress(
  env: Record<string, string>,
): { what: string; port: number; anywhere: boolean }[] {
  const needs: { what: string; port: number; anywhere: boolean }[] = [];
  const urlPort = (url: string, fallback: number): number => {
    const port = new URL(url).port;
    return port ? Number(port) : fallback;
  };
  if (env['FLEETWIRE_REDIS_URL'])
    needs.push({ what: 'Redis', port: urlPort(env['FLEETWIRE_REDIS_URL'], 6379), anywhere: false });
  for (const broker of (env['FLEETWIRE_KAFKA_BROKERS'] ?? '').split(',').filter(Boolean))
    needs.push({
      what: `Kafka ${broker}`,
      port: Number(broker.split(':')[1] ?? 9092),
      anywhere: false,
    });
  if (env['FLEETWIRE_DATABASE_URL'])
    needs.push({
      what: 'PostgreSQL',
      port: urlPort(env['FLEETWIRE_DATABASE_URL'], 5432),
      anywhere: false,
    });
  if (env['FLEETWIRE_JWT_JWKS_URL'])
    needs.push({
      what: 'the JWKS endpoint',
      port: urlPort(env['FLEETWIRE_JWT_JWKS_URL'], 443),
      anywhere: true,
    });
  return needs;
}

/** What a workload connects to, by the variables it uses (default: all it is given). */
export interface EgressAssumptions {
  /** Values the Secrets made outside the repo hold, by Secret name (e.g. the Redis URL in prod). */
  secrets?: Record<string, Record<string, string>>;
  /** Variables a workload really connects with, by workload name (e.g. migrate: the database). */
  uses?: Record<string, string[]>;
}

/**
 * Every workload's pods are selected by a NetworkPolicy with Egress; each such policy lets DNS
 * (53/UDP and 53/TCP) out to any address (NodeLocal DNSCache answers on a node-local address no
 * selector matches), and allows the ports the workload's configuration connects to.
 */
export function networkPolicies(m: Manifests, assumed: EgressAssumptions = {}): string[] {
  const problems: string[] = [];
  const policies = m.all('NetworkPolicy');
  for (const workload of m.workloads()) {
    const pod = m.pod(workload);
    const applying = policies.filter(
      (p) =>
        p.metadata.namespace === workload.metadata.namespace &&
        selects(policySpec(p).podSelector, pod.labels) &&
        (policySpec(p).policyTypes ?? []).includes('Egress'),
    );
    if (applying.length === 0) {
      problems.push(`${ref(workload)}: no NetworkPolicy with Egress selects its pods`);
      continue;
    }
    const rules = applying.flatMap((p) => policySpec(p).egress ?? []);
    for (const protocol of ['UDP', 'TCP'])
      if (!rules.some((r) => allowsAnywhere(r, 53, protocol)))
        problems.push(`${ref(workload)}: DNS (53/${protocol}) not allowed to any address`);
    for (const container of pod.spec.containers) {
      let env: Record<string, string> = {};
      for (const from of container.envFrom ?? [])
        if (from.secretRef && !m.find('Secret', from.secretRef.name))
          env = { ...env, ...assumed.secrets?.[from.secretRef.name] };
      env = { ...env, ...m.env(container) };
      const uses = assumed.uses?.[workload.metadata.name];
      if (uses) env = Object.fromEntries(Object.entries(env).filter(([k]) => uses.includes(k)));
      for (const need of neededEgress(env)) {
        const allowed = rules.some((r) =>
          need.anywhere
            ? allowsAnywhere(r, need.port, 'TCP')
            : allowsPort(r, need.port, 'TCP') && r.to !== undefined,
        );
        if (!allowed)
          problems.push(`${ref(workload)}: egress to ${need.what} (port ${need.port}) not allowed`);
      }
    }
  }
  return problems;
}

/** What the edge's memory limit must hold (k8s/README.md, "Memory"), in MiB. */
export interface MemoryBudget {
  limitMiB: number;
  totalMiB: number;
  lines: Record<string, number>;
}

/** Measured: one idle device socket (uWS + session) costs ~5 KiB of RSS, ~1.5 KiB of it heap. */
export const IDLE_SOCKET_KIB = 5;
export const IDLE_SOCKET_HEAP_KIB = 1.5;
/** Measured ~120 MiB of RSS for an idle edge without Redis/Kafka clients; their clients on top. */
export const EDGE_BASELINE_MIB = 160;

/**
 * The edge's worker threads, each with a heap of its own under the same caps (docs/operations.md,
 * "All cores"); FLEETWIRE_WORKERS unset: one per CPU of the container's limit.
 */
export function edgeWorkers(container: Container, env: Record<string, string>): number {
  const cpus = Math.ceil(quantity(container.resources?.limits?.['cpu'] ?? '1'));
  return Number(env['FLEETWIRE_WORKERS'] ?? cpus);
}

export function edgeMemoryBudget(m: Manifests, deployment = 'fleetwire-edge'): MemoryBudget {
  const container = m.pod(deployment).spec.containers[0]!;
  const env = m.env(container);
  const num = (name: string, fallback: number): number => Number(env[name] ?? fallback);
  const connections = num('FLEETWIRE_MAX_CONNECTIONS', 15_000);
  const payload = num('FLEETWIRE_MAX_PAYLOAD_BYTES', 16_384);
  const oversize = num('FLEETWIRE_OVERSIZE_CLOSE_BYTES', 4 * payload);
  const backpressure = num('FLEETWIRE_MAX_BACKPRESSURE_BYTES', 1_048_576);
  const nodeOptions = env['NODE_OPTIONS'] ?? '';
  const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1] ?? NaN);
  const semiSpace = Number(/--max-semi-space-size=(\d+)/.exec(nodeOptions)?.[1] ?? 16);
  const MiB = 1024 * 1024;
  const workers = edgeWorkers(container, env);
  const lines: Record<string, number> = {
    'process baseline': EDGE_BASELINE_MIB,
    'V8 old space (--max-old-space-size)': oldSpace * workers,
    'V8 young generation (3 × semi-space)': 3 * semiSpace * workers,
    'idle sockets': (connections * IDLE_SOCKET_KIB) / 1024,
    'send backpressure (uWS, per socket)': (connections * backpressure) / MiB,
    'frames being read up to the oversize cap (uWS)': (connections * oversize) / MiB,
  };
  const totalMiB = Object.values(lines).reduce((a, b) => a + b, 0);
  return {
    limitMiB: quantity(container.resources?.limits?.['memory'] ?? '0') / MiB,
    totalMiB,
    lines,
  };
}

/**
 * The worst case fits in 90 % of the memory limit (the rest: kernel socket buffers, which count
 * against the pod's cgroup, and fragmentation), and the heap cap holds the Kafka buffer at its
 * bound and the sockets' heap share.
 */
export function memoryBudgetFits(m: Manifests, deployment = 'fleetwire-edge'): string[] {
  const budget = edgeMemoryBudget(m, deployment);
  const problems: string[] = [];
  if (!(budget.totalMiB <= 0.9 * budget.limitMiB))
    problems.push(
      `${deployment}: worst case ${budget.totalMiB.toFixed(0)} MiB > 90 % of the ${budget.limitMiB} MiB limit (${JSON.stringify(budget.lines)})`,
    );
  const container = m.pod(deployment).spec.containers[0]!;
  const env = m.env(container);
  // Each worker holds its share of the sockets and of the Kafka buffer, under the same cap.
  const workers = edgeWorkers(container, env);
  const heapNeed =
    ((Number(env['FLEETWIRE_KAFKA_MAX_BUFFERED'] ?? 20_000) *
      Number(env['FLEETWIRE_MAX_PAYLOAD_BYTES'] ?? 16_384)) /
      (1024 * 1024) +
      (Number(env['FLEETWIRE_MAX_CONNECTIONS'] ?? 15_000) * IDLE_SOCKET_HEAP_KIB) / 1024) /
      workers +
    64;
  const heapCap = budget.lines['V8 old space (--max-old-space-size)']! / workers;
  if (!(heapCap >= heapNeed))
    problems.push(
      `${deployment}: heap cap ${heapCap} MiB < Kafka buffer at its bound + sockets' heap + 64 MiB = ${heapNeed.toFixed(0)} MiB`,
    );
  return problems;
}

/**
 * The HPA's connections target leaves room for a lost zone of three: the other pods then carry
 * 1.5× the target, which must stay under the per-pod cap.
 */
export function hpaHeadroom(m: Manifests): string[] {
  const hpa = m.get('HorizontalPodAutoscaler', 'fleetwire-edge')['spec'] as {
    metrics: { pods?: { metric: { name: string }; target: { averageValue: string } } }[];
  };
  const target = Number(
    hpa.metrics.find((x) => x.pods?.metric.name === 'fleetwire_edge_connections')?.pods?.target
      .averageValue,
  );
  const cap = Number(
    m.env(m.pod('fleetwire-edge').spec.containers[0]!)['FLEETWIRE_MAX_CONNECTIONS'] ?? 15_000,
  );
  return target * 1.5 <= cap
    ? []
    : [`HPA connections target ${target} × 1.5 (a lost zone) > FLEETWIRE_MAX_CONNECTIONS ${cap}`];
}

/** The oldest Kubernetes minor the manifests support (k8s/README.md). */
export const MIN_KUBERNETES_MINOR = 31;

/**
 * Fields newer than the Kubernetes 1.x where they became usable by default (GA, or beta enabled
 * by default), by a path pattern over the rendered objects. kubernetes-models validates against
 * the newest schema (1.34); this table keeps the oldest supported minor honest.
 */
export const FIELD_MINIMUM_MINOR: { path: RegExp; minor: number; field: string }[] = [
  {
    path: /\/topologySpreadConstraints\/\d+\/nodeTaintsPolicy$/,
    minor: 26,
    field: 'nodeTaintsPolicy',
  },
  {
    path: /\/topologySpreadConstraints\/\d+\/nodeAffinityPolicy$/,
    minor: 26,
    field: 'nodeAffinityPolicy',
  },
  { path: /\/topologySpreadConstraints\/\d+\/matchLabelKeys$/, minor: 27, field: 'matchLabelKeys' },
  {
    path: /^\/spec\/unhealthyPodEvictionPolicy$/,
    minor: 27,
    field: 'PDB unhealthyPodEvictionPolicy',
  },
  { path: /\/spec\/podFailurePolicy$/, minor: 26, field: 'Job podFailurePolicy' },
  { path: /\/spec\/trafficDistribution$/, minor: 31, field: 'Service trafficDistribution' },
  { path: /\/spec\/podReplacementPolicy$/, minor: 29, field: 'Job podReplacementPolicy' },
  { path: /\/spec\/managedBy$/, minor: 32, field: 'Job managedBy' },
  { path: /\/spec\/template\/spec\/resources$/, minor: 34, field: 'pod-level resources' },
];

/** Every path of an object's fields, as /a/b/0/c. */
export function fieldPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [
    `${prefix}/${k}`,
    ...fieldPaths(v, `${prefix}/${k}`),
  ]);
}

export function fieldsNewerThanSupported(m: Manifests, minMinor = MIN_KUBERNETES_MINOR): string[] {
  return m.objects.flatMap((o) =>
    fieldPaths(o).flatMap((path) =>
      FIELD_MINIMUM_MINOR.filter((g) => g.path.test(path) && g.minor > minMinor).map(
        (g) =>
          `${ref(o)}${path}: ${g.field} needs Kubernetes 1.${g.minor}, the oldest supported is 1.${minMinor}`,
      ),
    ),
  );
}

/** Every pod runs without a mounted service-account token. */
export function noServiceAccountTokens(m: Manifests): string[] {
  return m
    .workloads()
    .filter((w) => m.pod(w).spec.automountServiceAccountToken !== false)
    .map((w) => `${ref(w)}: automountServiceAccountToken is not false`);
}

/** Images by digest (name@sha256:<64 hex>). */
export function imagesByDigest(m: Manifests): string[] {
  return m
    .workloads()
    .flatMap((w) => m.pod(w).spec.containers)
    .filter((c) => !/@sha256:[0-9a-f]{64}$/.test(c.image))
    .map((c) => `${c.name}: image ${c.image} is not pinned by digest`);
}
