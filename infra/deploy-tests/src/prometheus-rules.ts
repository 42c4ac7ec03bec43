/**
 * The PrometheusRule of an overlay: the groups of infra/prometheus/alerts.yml and
 * alerts-kubernetes.yml with `namespace="<the overlay's namespace>"` added to every selector, so
 * the rules of one namespace never see the series of another (dev and prod on one Prometheus),
 * and absent() guards mean "absent in this namespace". alerts.test.ts keeps the committed
 * k8s/overlays/<overlay>/prometheusrule.yaml equal to this (`vitest -u` rewrites them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';

import { REPO_ROOT } from './config-catalog.js';

export const RULE_FILES = ['infra/prometheus/alerts.yml', 'infra/prometheus/alerts-kubernetes.yml'];

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export function readRuleGroups(files = RULE_FILES): RuleGroup[] {
  return files.flatMap(
    (file) =>
      (parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as { groups: RuleGroup[] }).groups,
  );
}

/**
 * A metric selector of the series the rules read: a name with one of the prefixes, or `up` with
 * braces, then its optional `{…}` matchers; not followed by a word character or `(` (a function).
 */
const SELECTOR =
  /\b((?:fleetwire|nodejs|process|kube|container)_[a-zA-Z0-9_]*|up(?=\{))(\{[^}]*\})?(?![\w(])/g;

/** `expr` with `namespace="<namespace>"` first in every selector's matchers. */
export function namespacedExpr(expr: string, namespace: string): string {
  return expr.replace(SELECTOR, (_all, name: string, braces: string | undefined) => {
    const inner = braces ? braces.slice(1, -1).trim() : '';
    return `${name}{namespace="${namespace}"${inner ? `, ${inner}` : ''}}`;
  });
}

export function namespacedGroups(groups: RuleGroup[], namespace: string): RuleGroup[] {
  return groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) => ({ ...r, expr: namespacedExpr(r.expr, namespace) })),
  }));
}

/** The PrometheusRule manifest of `namespace`, as committed in the overlay (prettier-formatted). */
export async function prometheusRuleYaml(
  namespace: string,
  groups = readRuleGroups(),
): Promise<string> {
  const header = [
    '# Generated from infra/prometheus/alerts.yml and alerts-kubernetes.yml with every selector',
    `# scoped to namespace="${namespace}" (infra/deploy-tests/src/prometheus-rules.ts). Do not edit:`,
    '# change the rule files, then `pnpm exec vitest run infra/deploy-tests/src/alerts.test.ts --update`.',
    '# The `release` label is what the stack’s Prometheus ruleSelector matches (k8s/monitoring).',
  ].join('\n');
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'fleetwire',
      labels: { 'app.kubernetes.io/name': 'fleetwire', release: 'kube-prometheus-stack' },
    },
    spec: { groups: namespacedGroups(groups, namespace) },
  };
  const file = join(REPO_ROOT, 'k8s/overlays/prod/prometheusrule.yaml');
  const options = (await resolveConfig(file)) ?? {};
  return format(`${header}\n${stringify(manifest, { lineWidth: 0 })}`, {
    ...options,
    parser: 'yaml',
  });
}
