/**
 * The node's age public key reaches the hub and Git: at enrollment (stored, written into the new Node
 * file, or set in a Node file the admins wrote, comments kept), and in hello for nodes enrolled before
 * keys existed; the node API shows it, and a changed key is audited.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAgeKeyPair } from '../../common/secrets/age.js';
import { frame, rawClient, waitFor } from '../hub/support.js';
import { api, newToken, startEnrollHub, type EnrollHub } from '../enroll/support.js';

const inventory = (hostname: string) => ({ hostname, cpu: { model: 'x', cores: 8 }, memoryBytes: 2 ** 34, disks: [{ mount: '/', sizeBytes: 10 ** 11 }], gpus: [] });

describe('node age keys at enrollment and in hello (hub hosting the example infra repo)', () => {
  let h: EnrollHub;
  beforeAll(async () => {
    h = await startEnrollHub();
  });
  afterAll(async () => h?.close());
  const show = (path: string): string => execFileSync('git', ['--git-dir', h.repoDir, 'show', `HEAD:${path}`], { encoding: 'utf8' });
  const recipientOf = async (node: string): Promise<unknown> => ((await api(h, 'GET', '/api/v1/nodes')).body.nodes as { name: string; ageRecipient: unknown }[]).find((n) => n.name === node)?.ageRecipient;

  it('a new node: the key is stored, shown by the node API and written into its Node file', async () => {
    const key = await generateAgeKeyPair();
    const t = await newToken(h, { profile: 'gpu-node' });
    const r = await api(h, 'POST', '/api/v1/enroll', { token: t.token, node: 'gpu-77', inventory: inventory('gpu-77'), ageRecipient: key.recipient });
    expect(r.status).toBe(201);
    expect(r.body.nodeFile).toMatchObject({ path: 'nodes/gpu-77.yaml', status: 'committed' });
    expect(show('nodes/gpu-77.yaml')).toContain(`  ageRecipient: ${key.recipient}\n`);
    expect(await recipientOf('gpu-77')).toBe(key.recipient);
    expect(JSON.stringify(r.body)).not.toContain('AGE-SECRET-KEY');
  });

  it('a node the admins declared with another key: enrollment succeeds, their file is left alone, the hub has the new key', async () => {
    const key = await generateAgeKeyPair();
    const before = show('nodes/gpu-01.yaml');
    const created = await api(h, 'POST', '/api/v1/join-tokens', { profile: 'gpu-node', node: 'gpu-01' });
    const r = await api(h, 'POST', '/api/v1/enroll', { token: created.body.token, node: 'gpu-01', inventory: inventory('gpu-01'), ageRecipient: key.recipient });
    expect(r.body).toMatchObject({ nodeFile: { status: 'kept' } });
    // The example's secrets are encrypted to gpu-01's key in Git: changing it there would need them re-encrypted in the same commit.
    expect(show('nodes/gpu-01.yaml')).toBe(before);
    expect(await recipientOf('gpu-01')).toBe(key.recipient);
  });

  it('a node enrolled before keys existed reports its key in hello; a new key is audited', async () => {
    const t = await newToken(h, { profile: 'gpu-node' });
    const r = await api(h, 'POST', '/api/v1/enroll', { token: t.token, node: 'gpu-78', inventory: inventory('gpu-78') });
    expect(await recipientOf('gpu-78')).toBeNull();
    const first = await generateAgeKeyPair();
    const client = await rawClient(h.hub.url, String(r.body.credential));
    client.send(frame('hello', { node: 'gpu-78', agentVersion: '0.1.0', appliedRevision: null, inventory: { gpus: [], resources: [] }, ageRecipient: first.recipient }));
    await waitFor(async () => (await recipientOf('gpu-78')) === first.recipient, 10_000, 'recipient from hello');
    client.ws.close();
    const second = await generateAgeKeyPair();
    const again = await rawClient(h.hub.url, String(r.body.credential));
    again.send(frame('hello', { node: 'gpu-78', agentVersion: '0.1.0', appliedRevision: null, inventory: { gpus: [], resources: [] }, ageRecipient: second.recipient }));
    await waitFor(async () => (await recipientOf('gpu-78')) === second.recipient, 10_000, 'new recipient from hello');
    again.ws.close();
    expect((await h.hub.store.auditLog()).filter((a) => a.target === 'gpu-78' && a.action.startsWith('node.age-recipient')).map((a) => a.action)).toEqual(['node.age-recipient.set', 'node.age-recipient.change']);
  });
});
