/**
 * Enrollment with TLS: a hub with a self-signed certificate made by openssl; the token pins its key.
 * install.sh (curl --pinnedpubkey) and `foundry agent enroll` (Node's peer certificate) both refuse a hub
 * whose key differs from the pin before sending the token; with the right pin the node enrolls and trusts
 * the saved certificate. Also: the systemd unit passes `systemd-analyze verify`, install.sh passes shellcheck.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describeIf } from '../support/requires.js';
import { api, filesUnder, newToken, runInstall, selfSignedCert, startEnrollHub, toolsPresent, INSTALL_SH, type EnrollHub } from './support.js';
import { decodeJoinToken, encodeJoinToken } from '../../common/enroll/token-format.js';
import { pinOfPem } from '../../common/enroll/tls-pin.js';
import { hubRequest } from '../../agent/enroll/enroll-client.js';
import { loadAgentConfig } from '../../agent/config/load-config.js';
import { sourceFor } from '../../agent/reconcile/gitops-loop.js';

const tools = ['sh', 'curl', 'tar', 'sha256sum', 'base64', 'git', 'podman', 'openssl'];
const describeTls = describeIf(toolsPresent(...tools), tools.join(', '), 'apt-get install -y curl git podman openssl');

describeTls('enrollment against a TLS hub with a pinned self-signed certificate', () => {
  let h: EnrollHub;
  let dir: string;
  let otherPin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-enroll-tls-'));
    const tls = selfSignedCert(dir, 'hub');
    otherPin = pinOfPem(readFileSync(selfSignedCert(dir, 'impostor').cert));
    h = await startEnrollHub(tls);
  });
  afterAll(async () => {
    await h?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const uses = async (id: string): Promise<number> => ((await api(h, 'GET', '/api/v1/join-tokens')).body.tokens as Array<{ id: string; uses: number }>).find((t) => t.id === id)!.uses;

  it('the token carries the pin of the hub certificate and the https url; the install command pins it for curl', async () => {
    const t = await newToken(h);
    const decoded = decodeJoinToken(t.token);
    expect(decoded.pin).toBe(pinOfPem(readFileSync(join(dir, 'hub.crt'))));
    expect(decoded.hubUrl).toBe(h.hub.url);
    expect(h.hub.url.startsWith('https://127.0.0.1:')).toBe(true);
    expect(t.installCommand).toBe(`curl -fsSL --proto =https -k --pinnedpubkey 'sha256//${Buffer.from(decoded.pin!, 'base64url').toString('base64')}' ${h.hub.url}/install.sh | sh -s -- --join ${t.token}`);
  });

  it('install.sh refuses a hub whose key does not match the pin, and the token is never sent', async () => {
    const t = await newToken(h);
    const wrong = encodeJoinToken({ ...decodeJoinToken(t.token), pin: otherPin });
    const r = await runInstall(['--join', wrong, '--prefix', join(dir, 'wrong'), '--no-systemd', '--name', 'tls-wrong']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot fetch the bundle checksum from ${h.hub.url} (wrong hub, or its certificate does not match the token's pin)`);
    expect(filesUnder(join(dir, 'wrong'))).toEqual([]);
    expect(await uses(t.id)).toBe(0);
  });

  it('foundry agent enroll checks the peer key itself before sending a byte', async () => {
    await expect(hubRequest({ url: h.hub.url, pin: otherPin, insecure: false }, 'POST', '/api/v1/enroll', { token: 'x' })).rejects.toMatchObject({ code: 'TLS_PIN_MISMATCH' });
    // Without a pin the self-signed hub is not trusted at all.
    await expect(hubRequest({ url: h.hub.url, pin: undefined, insecure: false }, 'GET', '/health', undefined)).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE' });
  });

  it('enrolls with the right pin, saves the hub certificate and points the config at it; the unit runs the installed agent', async () => {
    // svc-01 is declared in the example infra repo: enrolling it needs a token made for it, of its profile.
    const t = await newToken(h, { profile: 'service-node', node: 'svc-01' });
    const root = join(dir, 'ok');
    const r = await runInstall(['--join', t.token, '--prefix', root, '--no-systemd', '--name', 'svc-01']);
    expect(r.code, r.stderr).toBe(0);
    const etc = join(root, 'etc', 'foundry');
    const config = parse(readFileSync(join(etc, 'agent.yaml'), 'utf8'));
    expect(config.hub).toEqual({ url: h.hub.url, credentialFile: join(etc, 'credential'), caFile: join(etc, 'hub-ca.pem') });
    expect(pinOfPem(readFileSync(join(etc, 'hub-ca.pem')))).toBe(decodeJoinToken(t.token).pin);
    const nodeFile = spawnSync('git', ['--git-dir', h.repoDir, 'show', 'HEAD:nodes/svc-01.yaml'], { encoding: 'utf8' }).stdout;
    expect(parse(nodeFile).spec.profile).toBe('service-node');

    // The agent fetches the hosted repo over https, trusting the saved certificate (not the system CAs).
    const agentConfig = await loadAgentConfig(join(etc, 'agent.yaml'));
    const fetched = await sourceFor(agentConfig).fetch();
    expect(fetched.revision).toBe(spawnSync('git', ['--git-dir', h.repoDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim());
    await expect(sourceFor({ ...agentConfig, hubCaFile: undefined, cacheDir: join(root, 'no-ca-cache') }).fetch()).rejects.toMatchObject({ code: 'GIT_FETCH' });

    const unit = spawnSync('sh', [INSTALL_SH, '--print-unit', '--prefix', root], { encoding: 'utf8' });
    expect(unit.status).toBe(0);
    expect(unit.stdout).toContain(`ExecStart=${root}/opt/foundry/current/runtime/bin/node ${root}/opt/foundry/current/bin/foundry.js agent run --config ${etc}/agent.yaml`);
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', `ReadWritePaths=${root}/var/lib/foundry`, 'PrivateTmp=yes', 'ProtectHome=yes']) expect(unit.stdout).toContain(`\n${line}\n`);
  });
});

// Separate gates so CI fails when one of these tools is missing (the packages are in .ci/run).
describeIf(toolsPresent('sh', 'systemd-analyze'), 'systemd-analyze', 'apt-get install -y --no-install-recommends systemd')('the systemd unit install.sh writes', () => {
  it('passes systemd-analyze verify with no finding about the unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-unit-'));
    try {
      const unit = spawnSync('sh', [INSTALL_SH, '--print-unit', '--prefix', join(dir, 'root')], { encoding: 'utf8' });
      expect(unit.status).toBe(0);
      const file = join(dir, 'foundry-agent.service');
      writeFileSync(file, unit.stdout);
      // verify checks that ExecStart's program exists: put the bundle's runtime where install.sh would.
      const runtimeBin = join(dir, 'root', 'opt', 'foundry', 'current', 'runtime', 'bin');
      mkdirSync(runtimeBin, { recursive: true });
      symlinkSync(process.execPath, join(runtimeBin, 'node'));
      const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(verify.status).toBe(0);
      // verify exits 0 on unknown keys but says so: any line about our unit is a finding.
      expect(`${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes('foundry-agent.service'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeIf(toolsPresent('shellcheck'), 'shellcheck', 'apt-get install -y shellcheck')('install.sh lint', () => {
  it('install.sh is shellcheck-clean (POSIX sh)', () => {
    const r = spawnSync('shellcheck', ['--shell=sh', INSTALL_SH], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});
