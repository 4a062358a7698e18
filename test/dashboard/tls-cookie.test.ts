/** Under TLS the session cookie is also Secure (a real https hub with a throwaway openssl certificate). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { startTestHub, tempDir, type TestHub } from '../hub/support.js';
import { commandWorks, describeIf } from '../support/requires.js';
import { addUser, code, secretOf } from './support.js';

function post(url: string, ca: Buffer, body: unknown): Promise<{ status: number; body: Record<string, unknown>; cookie: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, cookie: String(res.headers['set-cookie'] ?? '') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describeIf(commandWorks('openssl', ['version']), 'openssl', 'apt-get install -y openssl')('session cookie under tls', () => {
  const dir = tempDir('foundry-dash-tls-');
  let hub: TestHub;
  let ca: Buffer;

  beforeAll(async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await new Promise<void>((resolve, reject) => execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], (err) => (err ? reject(err) : resolve())));
    ca = readFileSync(cert);
    hub = await startTestHub({ tls: { cert: ca, key: readFileSync(key) } });
    await addUser(hub.store, 'ada', 'admin');
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets HttpOnly, SameSite=Strict and Secure', async () => {
    const url = hub.url.replace('http:', 'https:');
    const login = await post(`${url}/api/v1/auth/login`, ca, { user: 'ada', password: 'one-time-password-1' });
    const setup = await post(`${url}/api/v1/auth/setup`, ca, { ticket: login.body.ticket, newPassword: 'a-long-new-password', code: code(secretOf(String(login.body.otpauthUri))) });
    expect(setup.status).toBe(200);
    expect(setup.cookie).toMatch(/^foundry_session=[\w-]{43}; Max-Age=604800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  });
});
