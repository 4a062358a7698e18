/**
 * deploy/prometheus with the real promtool: the scrape configuration and the alert rules check clean,
 * the unit tests of every alert pass (fires when it should, silent when it should not), and a rule made
 * wrong on purpose fails them. Plus what ties the files together: each alert's annotations and runbook
 * section in docs/monitoring.md, the dashboards' datasource, and the monitoring Service of the example
 * infra repo that mounts these files.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EXAMPLE_INFRA_DIR, PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';
import { PROMETHEUS_HOW, prometheusAvailable, promtool } from '../support/prometheus.js';
import { alertRules, alertTestCoverage, dashboards, DEPLOY_DIR, PROMETHEUS_DIR, RULE_TESTS_FILE, RULES_FILE } from './deploy-files.js';

const EXPECTED_ALERTS = [
  'FoundryHubDown', 'FoundryNodeOffline', 'FoundryAgentMetricsDown', 'FoundryReconcileStalled', 'FoundryOutboxBacklogGrowing',
  'FoundryGpuUnhealthy', 'FoundryGpuTooHot', 'FoundryGpuWorkspaceNoUsage', 'FoundryPushesRefused', 'FoundryInvoiceRefused',
];
const TOKEN_PATH = '/run/secrets/foundry-hub.token';

describeIf(prometheusAvailable(), 'prometheus', PROMETHEUS_HOW)('deploy/prometheus with promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-promtool-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool check config: the shipped prometheus.yml, its rule files and its token file', () => {
    // promtool stats the credentials file: a copy whose only change is the token's path (a temp file).
    const copy = join(dir, 'config');
    cpSync(PROMETHEUS_DIR, copy, { recursive: true });
    const text = readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
    expect(text).toContain(`credentials_file: ${TOKEN_PATH}`);
    writeFileSync(join(copy, 'hub.token'), 'not-a-real-token\n', { mode: 0o600 });
    writeFileSync(join(copy, 'prometheus.yml'), text.replace(`credentials_file: ${TOKEN_PATH}`, `credentials_file: ${join(copy, 'hub.token')}`));
    const r = promtool(['check', 'config', join(copy, 'prometheus.yml')]);
    expect(r.output).toContain('SUCCESS: 1 rule files found');
    expect(r.output).toContain(`SUCCESS: ${join(copy, 'prometheus.yml')} is valid prometheus config file syntax`);
    expect(r.status, r.output).toBe(0);
    // and it would have noticed a missing token file
    expect(promtool(['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')]).output).toContain(`stat ${TOKEN_PATH}: no such file or directory`);
  });

  it('promtool check rules: every alert rule parses', () => {
    const r = promtool(['check', 'rules', RULES_FILE]);
    expect([r.status, r.output.trim()]).toEqual([0, `Checking ${RULES_FILE}\n  SUCCESS: ${EXPECTED_ALERTS.length} rules found`]);
    expect(alertRules().map((a) => a.alert)).toEqual(EXPECTED_ALERTS);
  });

  it('promtool test rules: the unit tests of every alert pass', () => {
    const r = promtool(['test', 'rules', RULE_TESTS_FILE]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('every alert has unit tests that expect it firing and expect it silent', () => {
    const cover = alertTestCoverage();
    for (const name of EXPECTED_ALERTS) {
      const c = cover.get(name);
      expect(c, `${name} has no unit test`).toBeDefined();
      expect(c!.fires, `${name}: no test expects it to fire`).toBeGreaterThan(0);
      expect(c!.silent, `${name}: no test expects it to stay silent`).toBeGreaterThan(0);
    }
    expect([...cover.keys()].sort()).toEqual([...EXPECTED_ALERTS].sort());
  });

  it('a rule made wrong on purpose fails its unit tests (the tests can fail)', () => {
    const copy = join(dir, 'mutant');
    cpSync(PROMETHEUS_DIR, copy, { recursive: true });
    const mutants: Array<[string, string]> = [
      ['foundry_gpu_temperature_celsius > 85', 'foundry_gpu_temperature_celsius > 95'],
      ['time() - foundry_hub_workspace_last_usage_timestamp_seconds < 900', 'time() - foundry_hub_workspace_last_usage_timestamp_seconds < 90000'],
      ['foundry_hub_node_connected == 0\n        for: 5m', 'foundry_hub_node_connected == 0\n        for: 1m'],
    ];
    const original = readFileSync(RULES_FILE, 'utf8');
    for (const [from, to] of mutants) {
      expect(original).toContain(from);
      writeFileSync(join(copy, 'rules', 'foundry-alerts.yml'), original.replace(from, to));
      const r = promtool(['test', 'rules', join(copy, 'tests', 'foundry-alerts.test.yml')]);
      expect(r.status, `mutant ${to} passed`).toBe(1);
      expect(r.output).toContain('FAILED');
    }
  });
});

it('every alert has a severity, a summary, a description and a runbook section in docs/monitoring.md', () => {
  const doc = readFileSync(join(PACKAGE_ROOT, 'docs', 'monitoring.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  for (const a of alertRules()) {
    expect(['critical', 'warning'], a.alert).toContain(a.labels?.severity);
    expect(a.annotations?.summary, a.alert).toMatch(/\S/);
    expect(a.annotations?.description, a.alert).toMatch(/\S/);
    expect(a.annotations?.runbook, a.alert).toBe(`docs/monitoring.md#${a.alert.toLowerCase()}`);
    expect(anchors.has(a.alert.toLowerCase()), `docs/monitoring.md has no section ${a.alert}`).toBe(true);
  }
});

it('dashboards: unique uids, every panel queries the provisioned Prometheus datasource', () => {
  const ds = parse(readFileSync(join(DEPLOY_DIR, 'grafana', 'provisioning', 'datasources', 'foundry.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
  expect(ds.datasources.map((d) => [d.uid, d.type])).toEqual([['foundry-prometheus', 'prometheus']]);
  const all = dashboards();
  expect([...all.keys()]).toEqual(['foundry-billing.json', 'foundry-fleet.json', 'foundry-gpus.json', 'foundry-node.json']);
  expect(new Set([...all.values()].map((d) => d.uid)).size).toBe(all.size);
  for (const [file, d] of all) {
    expect(d.panels.length, file).toBeGreaterThan(0);
    for (const p of d.panels) {
      expect(p.datasource?.uid, `${file} / ${p.title}`).toBe('foundry-prometheus');
      expect(p.targets?.length, `${file} / ${p.title}`).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr, `${file} / ${p.title}`).toMatch(/foundry_|up\{/);
    }
  }
  expect(all.get('foundry-node.json')!.templating.list.map((v) => v.name)).toEqual(['node']);
});

it('the monitoring Service of the example infra repo mounts these files where they say they are', () => {
  type Mount = { hostPath?: string; name?: string; mountPath: string };
  type Container = { name: string; args?: string[]; volumes?: Mount[]; secrets?: Array<{ name: string; file?: string }>; ports?: Array<{ containerPort: number }> };
  const svc = parse(readFileSync(join(EXAMPLE_INFRA_DIR, 'services', 'monitoring.yaml'), 'utf8')) as { spec: { containers: Container[] } };
  const c = new Map(svc.spec.containers.map((x) => [x.name, x]));
  const prometheus = c.get('prometheus')!;
  const grafana = c.get('grafana')!;
  const HOST = '/srv/foundry/monitoring';
  const mount = (x: Container, mountPath: string): string | undefined => x.volumes?.find((v) => v.mountPath === mountPath)?.hostPath;
  // deploy/prometheus → /etc/prometheus, the config file named in the args, the token where prometheus.yml reads it
  expect(mount(prometheus, '/etc/prometheus')).toBe(`${HOST}/prometheus`);
  expect(prometheus.args).toContain('--config.file=/etc/prometheus/prometheus.yml');
  expect(prometheus.secrets).toEqual([{ name: 'foundry-prometheus-hub-token', file: TOKEN_PATH }]);
  // deploy/grafana/provisioning and dashboards, where the provider file looks for them; the datasource url names the container
  expect(mount(grafana, '/etc/grafana/provisioning')).toBe(`${HOST}/grafana/provisioning`);
  const providers = parse(readFileSync(join(DEPLOY_DIR, 'grafana', 'provisioning', 'dashboards', 'foundry.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
  expect(mount(grafana, providers.providers[0]!.options.path)).toBe(`${HOST}/grafana/dashboards`);
  const ds = parse(readFileSync(join(DEPLOY_DIR, 'grafana', 'provisioning', 'datasources', 'foundry.yml'), 'utf8')) as { datasources: Array<{ url: string }> };
  expect(ds.datasources[0]!.url).toBe(`http://prometheus:${prometheus.ports![0]!.containerPort}`);
});
