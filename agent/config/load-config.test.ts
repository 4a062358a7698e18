import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocalPath, loadAgentConfig, parseAgentConfig } from './load-config.js';
import { isFoundryError, type FoundryError } from '../../common/errors.js';

function errorOf(fn: () => unknown): FoundryError {
  try {
    fn();
  } catch (err) {
    if (isFoundryError(err)) return err;
    throw err;
  }
  throw new Error('expected a FoundryError');
}

describe('agent config', () => {
  it('applies every default', () => {
    const c = parseAgentConfig('node: gpu-01\nrepo:\n  url: https://git.example.eu/infra.git\n', '/etc/foundry/agent.yaml');
    expect(c).toEqual({
      file: '/etc/foundry/agent.yaml',
      node: 'gpu-01',
      repo: { url: 'https://git.example.eu/infra.git', localPath: undefined, branch: undefined, path: undefined, revision: undefined, pollIntervalMs: undefined, timeoutMs: 60_000 },
      cacheDir: '/var/lib/foundry/cache',
      stateDir: '/var/lib/foundry/agent',
      podman: { socketPath: '/run/podman/podman.sock', stopTimeoutMs: 10_000 },
      hubUrl: undefined,
      verify: { mode: 'off', allowedSignersFile: undefined, keyring: undefined },
      retry: { baseDelayMs: 5_000, maxDelayMs: 300_000 },
      logLevel: 'info',
    });
  });

  it('turns libvirt VMs on with defaults when the section is present', () => {
    const c = parseAgentConfig('node: gpu-01\nrepo:\n  url: https://git.example.eu/infra.git\nlibvirt:\n  shutdownTimeout: 30s\n', '/etc/foundry/agent.yaml');
    expect(c.libvirt).toEqual({ uri: 'qemu:///system', diskDir: '/var/lib/libvirt/images/foundry', imageDir: '/var/lib/foundry/images', shutdownTimeoutMs: 30_000 });
    expect(parseAgentConfig('node: gpu-01\nrepo:\n  url: x\n', '/etc/foundry/agent.yaml').libvirt).toBeUndefined();
  });

  it('reads every field and resolves a relative local repo against the config file', () => {
    const text = [
      'node: gpu-01',
      'repo: { url: ../infra, branch: main, path: clusters/eu, pollInterval: 15s, timeout: 5s }',
      'cacheDir: /var/cache/fc',
      'stateDir: /var/lib/fc',
      'podman: { socketPath: /run/docker.sock, stopTimeout: 3s }',
      'hub: { url: "https://hub.example.eu" }',
      'verify: { mode: ssh, allowedSignersFile: /etc/foundry/allowed_signers }',
      'retry: { baseDelay: 1s, maxDelay: 30s }',
      'log: { level: debug }',
    ].join('\n');
    const c = parseAgentConfig(text, '/etc/foundry/agent.yaml');
    expect(c.repo).toEqual({ url: '/etc/infra', localPath: '/etc/infra', branch: 'main', path: 'clusters/eu', revision: undefined, pollIntervalMs: 15_000, timeoutMs: 5_000 });
    expect(c.podman).toEqual({ socketPath: '/run/docker.sock', stopTimeoutMs: 3_000 });
    expect(c.verify).toEqual({ mode: 'ssh', allowedSignersFile: '/etc/foundry/allowed_signers', keyring: undefined });
    expect(c.retry).toEqual({ baseDelayMs: 1_000, maxDelayMs: 30_000 });
    expect(c.hubUrl).toBe('https://hub.example.eu');
    expect(c.logLevel).toBe('debug');
  });

  it('names the file, line and field of each problem', () => {
    const text = ['node: GPU_01', 'repo:', '  url: /srv/infra', '  pollInterval: soon', 'verify:', '  mode: ssh', 'colour: blue'].join('\n');
    const err = errorOf(() => parseAgentConfig(text, '/etc/foundry/agent.yaml'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.resource).toBe('/etc/foundry/agent.yaml');
    expect(err.message.split('\n').sort()).toEqual([
      "/etc/foundry/agent.yaml:1:7: node: invalid value \"GPU_01\": expected a resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label)",
      '/etc/foundry/agent.yaml:4:17: repo.pollInterval: invalid value "soon": expected a duration: a whole number followed by ms, s, m or h, e.g. 500ms, 10s, 5m, 1h',
      '/etc/foundry/agent.yaml:6:3: verify.allowedSignersFile: required field is missing (required when mode is ssh)',
      '/etc/foundry/agent.yaml:7:1: colour: unknown field: expected one of node, repo, cacheDir, stateDir, podman, hub, verify, retry, metrics, log, libvirt, openstack',
      'invalid agent config:',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const err = errorOf(() => parseAgentConfig('node: a\nrepo: [unclosed\n', '/x/agent.yaml'));
    expect(err.message).toMatch(/^invalid agent config:\n\/x\/agent\.yaml:\d+:\d+: /);
  });

  it('says which file cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-cfg-'));
    try {
      await expect(loadAgentConfig(join(dir, 'missing.yaml'))).rejects.toThrow(/^cannot read agent config .*missing\.yaml: .*\(pass --config PATH\)$/);
      writeFileSync(join(dir, 'agent.yaml'), 'node: n1\nrepo: { url: ./infra }\n');
      expect((await loadAgentConfig(join(dir, 'agent.yaml'))).repo.localPath).toBe(join(dir, 'infra'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns the metrics endpoint on with metrics.listen, and names the key and file of a bad address', () => {
    const base = 'node: n1\nrepo: { url: https://h/x.git }\n';
    expect(parseAgentConfig(`${base}metrics:\n  listen: 127.0.0.1:9101\n`, '/x/agent.yaml').metrics).toEqual({ listen: { host: '127.0.0.1', port: 9101, loopback: true } });
    expect(parseAgentConfig(base, '/x/agent.yaml').metrics).toBeUndefined();
    const err = errorOf(() => parseAgentConfig(`${base}metrics:\n  listen: 0.0.0.0\n`, '/x/agent.yaml'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^metrics\.listen in \/x\/agent\.yaml: "0\.0\.0\.0" has no port/);
  });

  it('tells local paths from remote URLs', () => {
    expect(['/srv/infra', './infra', '../x', 'infra', 'file:///srv/infra'].map(isLocalPath)).toEqual([true, true, true, true, true]);
    expect(['https://h/x.git', 'ssh://git@h/x.git', 'git@github.com:o/r.git', 'http://127.0.0.1:8080/git/infra'].map(isLocalPath)).toEqual([false, false, false, false]);
  });
});
