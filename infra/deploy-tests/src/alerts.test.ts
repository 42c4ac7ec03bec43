import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from './config-catalog.js';
import {
  RULE_FILES,
  namespacedExpr,
  namespacedGroups,
  prometheusRuleYaml,
  readRuleGroups,
  type RuleGroup,
} from './prometheus-rules.js';
import { promtool, promtoolPath } from './promtool.js';

interface UnitTests {
  rule_files: string[];
  evaluation_interval: string;
  tests: {
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: {
      eval_time: string;
      alertname: string;
      exp_alerts: { exp_labels: Record<string, string> }[];
    }[];
  }[];
}

const TEST_FILE = 'infra/prometheus/tests/alerts.test.yml';
const groups = readRuleGroups();
const alerts = groups.flatMap((g) => g.rules);
const unitTests = parse(readFileSync(join(REPO_ROOT, TEST_FILE), 'utf8')) as UnitTests;

let promtoolBin: string;
let tmp: string;
beforeAll(() => {
  promtoolBin = promtoolPath(process.env);
  tmp = mkdtempSync(join(tmpdir(), 'fleetwire-alerts-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Rules without annotations: promtool's unit tests would compare them as well. */
const bare = (gs: RuleGroup[]): RuleGroup[] =>
  gs.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _, ...rule }) => rule) }));

/** Runs promtool's unit tests `tests` against `ruleGroups` in a fresh directory. */
function runUnitTests(name: string, ruleGroups: RuleGroup[], tests: UnitTests): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: bare(ruleGroups) }));
  writeFileSync(join(dir, 'tests.yml'), stringify({ ...tests, rule_files: ['rules.yml'] }));
  return promtool(promtoolBin, ['test', 'rules', join(dir, 'tests.yml')]);
}

/** A series selector with `namespace` set (added first). */
function inNamespace(series: string, namespace: string): string {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?$/.exec(series.trim());
  if (!match) throw new Error(`series ${series}`);
  const inner = (match[3] ?? '').trim();
  return `${match[1]}{namespace="${namespace}"${inner ? `, ${inner}` : ''}}`;
}

describe('alert rules: promtool unit tests', () => {
  it('the test file reads the rule files, and its series carry no namespace (the harness adds it)', () => {
    expect(unitTests.rule_files.map((f) => join('infra/prometheus/tests', f))).toEqual(
      RULE_FILES.map((f) => join(f)),
    );
    for (const test of unitTests.tests)
      for (const input of test.input_series) expect(input.series).not.toContain('namespace');
  });

  it('every alert is tested firing and silent', () => {
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert.alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert.alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert.alert} silent`,
      ).toBe(true);
    }
    const names = new Set(alerts.map((a) => a.alert));
    expect(cases.filter((c) => !names.has(c.alertname)).map((c) => c.alertname)).toEqual([]);
  });

  it('pass against the rule files', () => {
    expect(runUnitTests('plain', groups, unitTests)).toContain('SUCCESS');
  });

  it('pass against the namespaced rules, with the whole input copied into another namespace', () => {
    const namespace = 'fleetwire';
    const tests: UnitTests = {
      ...unitTests,
      tests: unitTests.tests.map((t) => ({
        ...t,
        input_series: t.input_series.flatMap((s) => [
          { ...s, series: inNamespace(s.series, namespace) },
          // The same fleet in another namespace: with the rules scoped, nothing changes.
          { ...s, series: inNamespace(s.series, 'elsewhere') },
        ]),
        alert_rule_test: t.alert_rule_test.map((c) => ({
          ...c,
          exp_alerts: c.exp_alerts.map((a) => ({ exp_labels: { ...a.exp_labels, namespace } })),
        })),
      })),
    };
    expect(runUnitTests('namespaced', namespacedGroups(groups, namespace), tests)).toContain(
      'SUCCESS',
    );
    // And the copy does change the result of the unscoped rules: the test can tell.
    expect(() => runUnitTests('unscoped', groups, tests)).toThrow(/FAILED/);
  });

  it('every aggregation keeps the namespace', () => {
    for (const alert of alerts) {
      expect(alert.expr, alert.alert).not.toMatch(/\b(sum|min|max|avg|count)\s*\(/);
      for (const by of alert.expr.matchAll(/\b(by|on)\s*\(([^)]*)\)/g))
        expect(
          by[2]!.split(',').map((l) => l.trim()),
          alert.alert,
        ).toContain('namespace');
    }
  });
});

describe('the PrometheusRule of each overlay', () => {
  it('scopes every selector to the namespace', () => {
    expect(namespacedExpr('absent(up{job="fleetwire-edge"})', 'ns')).toBe(
      'absent(up{namespace="ns", job="fleetwire-edge"})',
    );
    expect(
      namespacedExpr(
        'sum by (namespace) (rate(fleetwire_edge_disconnects_total[5m])) / sum by (namespace) (fleetwire_edge_connections{role="device"})',
        'ns',
      ),
    ).toBe(
      'sum by (namespace) (rate(fleetwire_edge_disconnects_total{namespace="ns"}[5m])) / sum by (namespace) (fleetwire_edge_connections{namespace="ns", role="device"})',
    );
    for (const rule of namespacedGroups(groups, 'ns').flatMap((g) => g.rules)) {
      const selectors = rule.expr.match(/\b[a-zA-Z0-9_]+\{[^}]*\}/g) ?? [];
      expect(selectors.length, rule.alert).toBeGreaterThan(0);
      for (const s of selectors) expect(s, rule.alert).toContain('namespace="ns"');
    }
  });

  it.each([
    ['overlays/dev', 'fleetwire-dev'],
    ['overlays/prod', 'fleetwire'],
  ])(
    'k8s/%s/prometheusrule.yaml is generated from the rule files (namespace %s)',
    async (overlay, namespace) => {
      const text = await prometheusRuleYaml(namespace);
      await expect(text).toMatchFileSnapshot(
        join(REPO_ROOT, 'k8s', overlay, 'prometheusrule.yaml'),
      );
      const manifest = parse(text) as { spec: { groups: RuleGroup[] } };
      const file = join(tmp, `${namespace}.rules.yml`);
      writeFileSync(file, stringify({ groups: manifest.spec.groups }));
      expect(promtool(promtoolBin, ['check', 'rules', file])).toContain(
        `SUCCESS: ${alerts.length} rules found`,
      );
    },
  );
});
