/** Apps in templates, the node's internal address and the ingress service: each test breaks one thing and asserts the exact issues. */
import { describe, expect, it } from 'vitest';
import { doc, repoIssues } from './temp-repo.js';

const issuesOf = repoIssues();

const template = (ports: string[]) =>
  doc('WorkspaceTemplate', 'stack', ['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', '      ports:', ...ports.map((p) => `        - ${p}`), '    - name: api', '      image: x:1', '      ports: [{ containerPort: 11434, app: ollama-api, api: true }]']);

describe('apps in templates', () => {
  it('accepts named apps with a protocol and the api flag', async () => {
    expect(await issuesOf({ 'templates/stack.yaml': template(['{ containerPort: 80, app: web, appProtocol: http }']) })).toEqual([]);
  });

  it('refuses an app name used twice, naming the first place', async () => {
    expect(await issuesOf({ 'templates/stack.yaml': template(['{ containerPort: 80, app: ollama-api }']) })).toEqual([
      'templates/stack.yaml:13:44: spec.containers[1].ports[0].app: app ollama-api is already the name of container web port 80: app names are unique within a template (they are the first label of the app\'s URL)',
    ]);
  });

  it('refuses app names that cannot be a URL label and api without app', async () => {
    const issues = await issuesOf({ 'templates/stack.yaml': template(['{ containerPort: 80, app: my--app }', '{ containerPort: 81, api: true }']) });
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^templates\/stack\.yaml:10:37: spec\.containers\[0\]\.ports\[0\]\.app: /);
    expect(issues[1]).toMatch(/^templates\/stack\.yaml:11:11: spec\.containers\[0\]\.ports\[1\]: must have property app when property api is present$/);
  });
});

describe('node internal address', () => {
  it('refuses all addresses', async () => {
    const issues = await issuesOf({ 'nodes/svc-01.yaml': doc('Node', 'svc-01', ['  profile: service-node', '  network: { internalAddress: 0.0.0.0 }']) });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^nodes\/svc-01\.yaml:7:31: spec\.network\.internalAddress: /);
  });
});

describe('ingress service', () => {
  it('accepts an ingress on a named node and refuses one on a selector', async () => {
    expect(await issuesOf({ 'services/ingress.yaml': doc('Service', 'ingress', ['  placement: { node: svc-01 }', '  ingress: { listen: "0.0.0.0:443", authCacheSeconds: 5 }']) })).toEqual([]);
    expect(await issuesOf({ 'services/ingress.yaml': doc('Service', 'ingress', ['  placement: { nodeSelector: { role: services } }', '  ingress: { listen: "0.0.0.0:443" }']) })).toEqual([
      'services/ingress.yaml:6:14: spec.placement: an ingress service runs on one named node: expected placement.node, not nodeSelector',
    ]);
  });
});
