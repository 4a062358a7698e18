/**
 * The agent turns the OpenStack driver on from its config: an `openstack:` section naming a cloud of a
 * standard clouds.yaml. Parsing of that file (password and application credentials, v3 URL, errors that
 * name the key but never a value), and a real reconcile through buildReconciler against the stand-in
 * cloud of the API-reference samples: the Keystone request carries the file's credentials and the VM
 * declared in Git becomes a Nova server, with no secret in the logs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadCloud, parseCloud } from '../../agent/drivers/openstack/clouds-yaml.js';
import { parseAgentConfig } from '../../agent/config/load-config.js';
import { buildReconciler } from '../../agent/reconcile/gitops-loop.js';
import { commitRepo, initGitRepo } from '../agent/infra-fixture.js';
import { FakeCloud, sample, SAMPLE_PROJECT } from './fake-cloud.js';

const PASSWORD = 'devstacker';
const cloudsYaml = (authUrl: string, auth: Record<string, string> = {}, extra = ''): string =>
  [
    'clouds:',
    '  fc:',
    '    auth:',
    `      auth_url: ${authUrl}`,
    ...Object.entries({ username: 'admin', user_domain_name: 'Default', password: PASSWORD, project_id: SAMPLE_PROJECT, ...auth }).map(([k, v]) => `      ${k}: "${v}"`),
    '    region_name: RegionOne',
    extra,
  ].join('\n');

describe('clouds.yaml for the OpenStack driver', () => {
  it('reads password credentials, the region and the v3 URL (appended to a Keystone root)', () => {
    const c = parseCloud(cloudsYaml('https://keystone.example.eu:5000', {}, '    interface: internal'), '/etc/openstack/clouds.yaml', 'fc');
    expect(c).toEqual({
      authUrl: 'https://keystone.example.eu:5000/v3',
      credentials: { type: 'password', username: 'admin', userDomainName: 'Default', password: PASSWORD, projectId: SAMPLE_PROJECT },
      region: 'RegionOne',
      interface: 'internal',
      warnings: [],
    });
    expect(parseCloud(cloudsYaml('https://k.example.eu/identity/v3/'), 'f', 'fc').authUrl).toBe('https://k.example.eu/identity/v3');
  });

  it('reads an application credential by id (auth_type v3applicationcredential)', () => {
    const text = 'clouds:\n  fc:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: https://k.example.eu/v3\n      application_credential_id: abc\n      application_credential_secret: s3cret\n';
    expect(parseCloud(text, 'f', 'fc').credentials).toEqual({ type: 'application_credential', id: 'abc', secret: 's3cret' });
  });

  it('names the file, cloud and key of each problem, never a value', () => {
    const err = (text: string, cloud = 'fc'): string => {
      try {
        parseCloud(text, '/etc/openstack/clouds.yaml', cloud);
      } catch (e) {
        expect(e).toMatchObject({ code: 'CONFIG_INVALID', resource: '/etc/openstack/clouds.yaml' });
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err(cloudsYaml('https://k/v3'), 'prod')).toBe('/etc/openstack/clouds.yaml: no cloud named "prod" (has: fc)');
    expect(err(cloudsYaml('https://k/v3').replace(`      password: "${PASSWORD}"\n`, ''))).toBe('/etc/openstack/clouds.yaml: clouds.fc.auth.password: required for auth_type password');
    expect(err(cloudsYaml('https://k/v3', { project_id: '' }).replace('      project_id: ""\n', ''))).toBe(
      '/etc/openstack/clouds.yaml: clouds.fc.auth: project_id or project_name is required (the servers live in a project)',
    );
    expect(err(cloudsYaml('keystone:5000'))).toBe('/etc/openstack/clouds.yaml: clouds.fc.auth.auth_url: expected an http(s) URL');
    expect(err(cloudsYaml('https://k/v3', {}, '    auth_type: token'))).toBe('/etc/openstack/clouds.yaml: clouds.fc.auth_type: "token" is not supported (use password or v3applicationcredential)');
    expect(err(cloudsYaml('https://k/v3', {}, '    identity_api_version: 2'))).toBe('/etc/openstack/clouds.yaml: clouds.fc.identity_api_version: only Keystone v3 is supported');
    // A broken line holding the password: yaml's own message would quote it.
    const broken = err(`clouds:\n  fc:\n    auth:\n      password: "${PASSWORD}\n      username: [admin\n`);
    expect(broken).toMatch(/^\/etc\/openstack\/clouds\.yaml: not valid YAML \(/);
    expect(broken).not.toContain(PASSWORD);
  });

  it('warns when the file is readable by others, and says when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-clouds-'));
    try {
      const file = join(dir, 'clouds.yaml');
      writeFileSync(file, cloudsYaml('https://k/v3'));
      chmodSync(file, 0o644);
      expect(loadCloud(file, 'fc').warnings).toEqual([`${file} is readable by group or others (mode 644); it holds OpenStack secrets: chmod 600 it`]);
      chmodSync(file, 0o600);
      expect(loadCloud(file, 'fc').warnings).toEqual([]);
      expect(() => loadCloud(join(dir, 'missing.yaml'), 'fc')).toThrow(/^cannot read .*missing\.yaml: .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent config openstack section', () => {
  it('resolves defaults, and refuses a section without a cloud', () => {
    const c = parseAgentConfig('node: n1\nrepo:\n  url: https://git.example.eu/infra.git\nopenstack:\n  cloud: fc\n', '/etc/foundry/agent.yaml');
    expect(c.openstack).toEqual({ cloudsFile: '/etc/openstack/clouds.yaml', cloud: 'fc', hostTargeting: 'microversion', timeoutMs: 30_000 });
    expect(() => parseAgentConfig('node: n1\nrepo:\n  url: x\nopenstack:\n  cloudsFile: /etc/oc.yaml\n', '/etc/foundry/agent.yaml')).toThrow(
      'invalid agent config:\n/etc/foundry/agent.yaml:5:3: openstack.cloud: required field is missing: expected name of the cloud under clouds: in that file',
    );
  });
});

describe('agent with the openstack driver (stand-in cloud from the API-reference samples)', () => {
  let cloud: FakeCloud;
  let dir: string;
  beforeEach(async () => {
    cloud = new FakeCloud();
    await cloud.start();
    dir = mkdtempSync(join(tmpdir(), 'fc-os-agent-'));
  });
  afterEach(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the driver from clouds.yaml and converges the VM declared in Git into a Nova server', async () => {
    const clouds = join(dir, 'clouds.yaml');
    writeFileSync(clouds, cloudsYaml(cloud.authUrl), { mode: 0o600 });
    const repo = join(dir, 'repo');
    initGitRepo(repo);
    commitRepo(
      repo,
      {
        node: 'n1',
        templates: {},
        workspaces: { 'acme-desk': { template: 'desk' } },
        extraFiles: { 'templates/desk.yaml': 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata: { name: desk }\nspec:\n  vm: { name: desk, driver: openstack, openstack: { flavor: m1.tiny, image: 70a599e0-31e7-49b7-b260-868f441e862b } }\n' },
      },
      'a desktop vm',
    );
    const configText = [
      'node: n1',
      `repo: { url: ${repo} }`,
      `cacheDir: ${join(dir, 'cache')}`,
      `stateDir: ${join(dir, 'state')}`,
      `podman: { socketPath: ${join(dir, 'no-podman.sock')} }`,
      `openstack: { cloudsFile: ${clouds}, cloud: fc }`,
    ].join('\n');
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
    const reconciler = await buildReconciler(parseAgentConfig(configText, join(dir, 'agent.yaml')), logger);
    expect(reconciler.deps.drivers.map((d) => d.name)).toEqual(['podman', 'openstack']);

    const result = await reconciler.trigger('test');
    // Keystone got the file's password credentials, exactly the reference's request.
    const identity = sample<{ auth: { identity: unknown } }>('keystone/auth-password-unscoped-request-with-domain.json').auth.identity;
    expect(cloud.requests[0]?.body).toEqual({ auth: { identity, scope: { project: { id: SAMPLE_PROJECT } } } });
    const ours = cloud.servers.filter((s) => s.metadata['foundry.cloud:node'] === 'n1');
    expect(ours.map((s) => [s.name, s.metadata['foundry.cloud:workspace'], s.metadata['foundry.cloud:managed-by']])).toEqual([['fc-ws-acme-desk-desk', 'acme-desk', 'foundry-agent']]);
    expect(result.status.resources.map((r) => [r.id, r.phase])).toEqual([['ws.acme-desk.vm.desk', 'Ready']]);
    expect(lines.join('')).not.toContain(PASSWORD);
  });
});
