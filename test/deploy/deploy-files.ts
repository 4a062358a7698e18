/**
 * Test support: the files of deploy/ as data: the alert rules and their promtool unit tests, and every
 * Grafana panel's PromQL with the dashboard's template variables substituted.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../common/paths.js';

export const DEPLOY_DIR = join(PACKAGE_ROOT, 'deploy');
export const PROMETHEUS_DIR = join(DEPLOY_DIR, 'prometheus');
export const RULES_FILE = join(PROMETHEUS_DIR, 'rules', 'foundry-alerts.yml');
export const RULE_TESTS_FILE = join(PROMETHEUS_DIR, 'tests', 'foundry-alerts.test.yml');
export const DASHBOARDS_DIR = join(DEPLOY_DIR, 'grafana', 'dashboards');

/** An alerting rule as the rules file declares it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every alerting rule of deploy/prometheus/rules/foundry-alerts.yml. */
export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}

/** For each alert name: how many of its unit-test cases expect it firing, and how many expect silence. */
export function alertTestCoverage(): Map<string, { fires: number; silent: number }> {
  const doc = parse(readFileSync(RULE_TESTS_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
  const cover = new Map<string, { fires: number; silent: number }>();
  for (const t of doc.tests) {
    for (const c of t.alert_rule_test ?? []) {
      const e = cover.get(c.alertname) ?? { fires: 0, silent: 0 };
      if ((c.exp_alerts ?? []).length > 0) e.fires++;
      else e.silent++;
      cover.set(c.alertname, e);
    }
  }
  return cover;
}

/** A Grafana dashboard, as much of it as the tests read. */
export interface Dashboard {
  uid: string;
  title: string;
  templating: { list: Array<{ name: string; query?: { query: string } | string; datasource?: { uid: string } }> };
  panels: Array<{ id: number; title: string; type: string; datasource?: { uid: string }; targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }> }>;
}

/** Every dashboard JSON of deploy/grafana/dashboards, by file name. */
export function dashboards(): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const f of readdirSync(DASHBOARDS_DIR).filter((n) => n.endsWith('.json')).sort()) {
    out.set(f, JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard);
  }
  return out;
}

/** One panel query, named for messages ("file / panel title / refId"). */
export interface PanelQuery {
  where: string;
  expr: string;
}

/**
 * Every panel target's PromQL with the template variables replaced as Grafana would: `vars` for the
 * dashboard's own ($node), `$__rate_interval` by `rateInterval`. Throws on a `$` left unreplaced.
 */
export function panelQueries(vars: Record<string, string>, rateInterval: string): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [file, d] of dashboards()) {
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        let expr = t.expr.replaceAll('$__rate_interval', rateInterval);
        for (const [k, v] of Object.entries(vars)) expr = expr.replaceAll(`$${k}`, v);
        const where = `${file} / ${p.title} / ${t.refId}`;
        if (expr.includes('$')) throw new Error(`${where}: unreplaced template variable in ${expr}`);
        out.push({ where, expr });
      }
    }
  }
  return out;
}
