import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, exposedSeriesNames } from './config-catalog.js';
import { metricNamesIn, promtool, promtoolPath } from './promtool.js';

interface Panel {
  id: number;
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr: string; refId: string; datasource: { uid: string } }[];
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const dashboard = JSON.parse(read('infra/grafana/dashboards/fleetwire.json')) as {
  uid: string;
  panels: Panel[];
};
const alerts = parse(read('infra/prometheus/alerts.yml')) as {
  groups: { name: string; rules: Rule[] }[];
};
const rules = alerts.groups.flatMap((g) => g.rules);
const kubernetesRules = (
  parse(read('infra/prometheus/alerts-kubernetes.yml')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
/** kube-state-metrics and cAdvisor series, vendored (no cluster here to ask). */
const kubernetesSeries = new Set(
  read('infra/deploy-tests/vendor/kubernetes-series.txt')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
);
const scrapeJobs = (
  parse(read('infra/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string }[] }
).scrape_configs.map((c) => c.job_name);

let known: Set<string>;
let promtoolBin: string;
let tmp: string;
beforeAll(async () => {
  known = await exposedSeriesNames();
  promtoolBin = promtoolPath(process.env);
  tmp = mkdtempSync(join(tmpdir(), 'fleetwire-grafana-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Metric names of `exprs` neither the services define nor kube-state-metrics/cAdvisor provide
 * (`up` is Prometheus' own).
 */
function unknownMetrics(exprs: string[]): string[] {
  return exprs
    .flatMap(metricNamesIn)
    .filter((name) => name !== 'up' && !known.has(name) && !kubernetesSeries.has(name));
}

describe('Grafana dashboard', () => {
  it('has the panels operators need, with unique ids, on the provisioned datasource', () => {
    expect(dashboard.panels.map((p) => p.title)).toEqual([
      'Connections by role',
      'Connections per edge node',
      'Messages in /s by kind',
      'Messages out /s by kind',
      'Publish → deliver latency p50 / p99',
      'Auth failures /s by reason',
      'Kafka produce latency p50 / p99',
      'Telemetry nacks and buffer',
      'Consumer lag',
      'Rows written /s',
      'Event-loop lag p99',
      'Redis bus and commands',
      'Upgrade refusals /s (node_full, draining, …)',
      'Disconnects /s by close code',
      'Edge pods vs HPA max',
      'File descriptors used (of the limit)',
    ]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const provisioned = parse(read('infra/grafana/provisioning/datasources/prometheus.yaml')) as {
      datasources: { uid: string }[];
    };
    const uid = provisioned.datasources[0]!.uid;
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(uid);
      for (const target of panel.targets) expect(target.datasource.uid).toBe(uid);
    }
  });

  it('every query is scoped by the namespace variable (all namespaces by default)', () => {
    const variable = (
      dashboard as unknown as {
        templating: { list: { name: string; includeAll: boolean; allValue: string }[] };
      }
    ).templating.list.find((v) => v.name === 'namespace');
    expect(variable).toMatchObject({ includeAll: true, allValue: '.*' });
    for (const panel of dashboard.panels)
      for (const target of panel.targets) {
        const selectors = target.expr.match(/\b[a-zA-Z0-9_]+\{[^}]*\}/g) ?? [];
        expect(selectors.length, panel.title).toBeGreaterThan(0);
        for (const s of selectors) expect(s, panel.title).toContain('namespace=~"$namespace"');
      }
  });

  it('queries only metrics the edge and ingest processes (or the cluster) define', () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.flatMap(metricNamesIn).length).toBeGreaterThan(dashboard.panels.length);
    expect(unknownMetrics(exprs)).toEqual([]);
  });

  it('every query is valid PromQL (promtool, as recording rules)', () => {
    const file = join(tmp, 'dashboard-rules.yml');
    const recording = dashboard.panels.flatMap((p) =>
      p.targets.map((t) => ({
        record: `dashboard:panel${p.id}:${t.refId}`,
        // Grafana's range variable is not PromQL; any duration stands in for it.
        expr: t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', '.*'),
      })),
    );
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
    expect(promtool(promtoolBin, ['check', 'rules', file])).toContain(
      `SUCCESS: ${recording.length} rules found`,
    );
  });
});

describe('Prometheus alert rules and scrape config', () => {
  it('promtool accepts the rule file', () => {
    const output = promtool(promtoolBin, [
      'check',
      'rules',
      join(REPO_ROOT, 'infra/prometheus/alerts.yml'),
    ]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('every alert reads defined metrics, has a severity and says what happened', () => {
    expect(unknownMetrics([...rules, ...kubernetesRules].map((r) => r.expr))).toEqual([]);
    // Only the Kubernetes file reads kube_*/container_* series: compose has none.
    expect(
      rules.flatMap((r) => metricNamesIn(r.expr)).filter((n) => kubernetesSeries.has(n)),
    ).toEqual([]);
    for (const rule of [...rules, ...kubernetesRules]) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(0);
      expect(rule.annotations.description.length).toBeGreaterThan(0);
    }
    const all = [...rules, ...kubernetesRules];
    expect(new Set(all.map((r) => r.alert)).size).toBe(all.length);
  });

  it('jobs the alerts select on are scraped', () => {
    const jobs = rules.flatMap((r) => [...r.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!));
    expect([...new Set(jobs)].sort()).toEqual(['fleetwire-edge', 'fleetwire-ingest']);
    for (const job of jobs) expect(scrapeJobs).toContain(job);
  });

  it('promtool accepts the scrape config', () => {
    // The config names the rule file by its path inside the container; check it beside a copy.
    const config = read('infra/prometheus/prometheus.yml').replace(
      '/etc/prometheus/alerts.yml',
      join(REPO_ROOT, 'infra/prometheus/alerts.yml'),
    );
    const file = join(tmp, 'prometheus.yml');
    writeFileSync(file, config);
    expect(promtool(promtoolBin, ['check', 'config', file])).toContain('SUCCESS');
  });
});
