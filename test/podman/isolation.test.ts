/**
 * Tenant isolation on the network, for real: each workspace gets its own Podman network (isolated
 * bridges), so a container of one workspace cannot reach a container of another, while containers of
 * the same workspace reach each other by name. (busybox nc is the client: the static busybox's wget
 * crashes inside the image, see HOST-NOTES.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo } from '../agent/infra-fixture.js';
import { testAgent, type TestAgent } from '../agent/agent-harness.js';

const NODE = 'iso-01';
const HTTP_GET = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2";

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('workspace network isolation (real podman)', () => {
  let pm: PrivatePodman;
  let repo: string;
  let agent: TestAgent;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    repo = mkdtempSync(join(tmpdir(), 'fc-iso-'));
    initGitRepo(repo);
    agent = testAgent(pm, repo, NODE);
    const stack = [
      { name: 'web', image: TEST_IMAGE, pullPolicy: 'Never', command: ['httpd', '-f', '-p', '8080', '-h', '/www'] },
      { name: 'client', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'] },
    ];
    commitRepo(repo, { node: NODE, templates: { stack }, workspaces: { 'acme-one': { template: 'stack' }, 'globex-two': { template: 'stack', tenant: 'globex' } } }, 'two tenants');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    rmSync(repo, { recursive: true, force: true });
  });

  const ipOf = (container: string, network: string): string => pm.podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]).stdout.trim();
  const get = (from: string, target: string): { status: number; stdout: string } => pm.podman(['exec', from, 'sh', '-c', `${HTTP_GET} ${target} 8080`], { allowFail: true });

  it('a container reaches its own workspace peer by name and by address', () => {
    const byName = get('fc-ws-acme-one-client', 'web');
    expect(byName.status).toBe(0);
    expect(byName.stdout).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(byName.stdout.endsWith('foundry test page\n')).toBe(true);
    const ip = ipOf('fc-ws-acme-one-web', 'fc-ws-acme-one');
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(get('fc-ws-acme-one-client', ip).stdout).toMatch(/200 OK/);
  });

  it("a container cannot reach another workspace's container, by address or by name", () => {
    const otherIp = ipOf('fc-ws-globex-two-web', 'fc-ws-globex-two');
    const cross = get('fc-ws-acme-one-client', otherIp);
    expect(cross.status).not.toBe(0);
    expect(cross.stdout).toBe('');
    // Names resolve only inside the workspace's own network: "web" is acme-one's web.
    const ownWeb = ipOf('fc-ws-acme-one-web', 'fc-ws-acme-one');
    const resolved = pm.podman(['exec', 'fc-ws-acme-one-client', 'nslookup', 'web'], { allowFail: true }).stdout;
    expect(resolved).toContain(ownWeb);
    expect(resolved).not.toContain(otherIp);
    // And the other way round.
    expect(get('fc-ws-globex-two-client', ownWeb).status).not.toBe(0);
  });
});
