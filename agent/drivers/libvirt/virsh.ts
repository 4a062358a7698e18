/**
 * Thin wrapper over `virsh -c URI ...`: one method per command, argv arrays through the process runner,
 * failures as FoundryErrors naming the domain. Parsing lives in domain-parse.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoundryError } from '../../../common/errors.js';
import type { CommandResult, CommandRunner } from '../../../common/run-command.js';

/** virsh's message when a domain does not exist (libvirt error VIR_ERR_NO_DOMAIN). */
const NO_DOMAIN = /failed to get domain|Domain not found|no domain with matching/i;
const NO_DAEMON = /failed to connect to the hypervisor|failed to connect socket|libvirt-sock/i;

/** Runs virsh against one connection URI. */
export class Virsh {
  constructor(
    private readonly run: CommandRunner,
    readonly uri: string,
    private readonly timeoutMs = 60_000,
  ) {}

  /** Raw run: `virsh -c uri args...`; rejects only when virsh cannot start. */
  exec(args: readonly string[], input?: string): Promise<CommandResult> {
    return this.run('virsh', ['-q', '-c', this.uri, ...args], { timeoutMs: this.timeoutMs, ...(input !== undefined ? { input } : {}) });
  }

  /** Runs and requires exit 0; throws VM_ACTION naming `resource` with virsh's own message. */
  async must(args: readonly string[], resource: string): Promise<string> {
    let r: CommandResult;
    try {
      r = await this.exec(args);
    } catch (cause) {
      throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot run virsh: ${(cause as Error).message}`, { resource, cause });
    }
    if (r.code !== 0) {
      const why = r.timedOut ? 'timed out' : cleanError(r.stderr) || `exit ${r.code}`;
      // libvirtd not answering is the runtime being down, not a failed action on a domain.
      if (NO_DAEMON.test(r.stderr)) throw new FoundryError('RUNTIME_UNAVAILABLE', `libvirt at ${this.uri} is not reachable: ${why}`, { resource, details: { uri: this.uri, command: args[0] } });
      throw new FoundryError('VM_ACTION', `virsh ${args[0] ?? ''} failed for ${resource}: ${why}`, { resource, details: { uri: this.uri, command: args[0], notFound: NO_DOMAIN.test(r.stderr) } });
    }
    return r.stdout;
  }

  /** Names of every domain, active or not. */
  async listNames(): Promise<string[]> {
    const out = await this.must(['list', '--all', '--name'], this.uri);
    return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  }

  /** The domain XML, or undefined when the domain does not exist (any more). */
  async dumpXml(name: string): Promise<string | undefined> {
    return this.unlessMissing(['dumpxml', '--', name], name);
  }

  /** `virsh domstate` output, or undefined when the domain does not exist. */
  async domState(name: string): Promise<string | undefined> {
    return this.unlessMissing(['domstate', '--', name], name);
  }

  /**
   * Defines (or redefines, same name and uuid) a domain from XML. The XML goes through a private temp
   * file: Node gives children socket stdio, which virsh cannot open as /dev/stdin.
   */
  async define(xml: string, resource: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-virsh-'));
    try {
      const file = join(dir, 'domain.xml');
      writeFileSync(file, xml, { mode: 0o600 });
      await this.must(['define', '--file', file], resource);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Starts, resumes, shuts down, destroys, undefines (with NVRAM, managed save and snapshot metadata). */
  async start(name: string, resource: string): Promise<void> {
    await this.must(['start', '--', name], resource);
  }

  async resume(name: string, resource: string): Promise<void> {
    await this.must(['resume', '--', name], resource);
  }

  async shutdown(name: string, resource: string): Promise<void> {
    await this.must(['shutdown', '--', name], resource);
  }

  async destroy(name: string, resource: string): Promise<void> {
    await this.must(['destroy', '--', name], resource);
  }

  async undefine(name: string, resource: string): Promise<void> {
    try {
      await this.must(['undefine', '--nvram', '--managed-save', '--snapshots-metadata', '--', name], resource);
    } catch (err) {
      // Hypervisors without NVRAM or managed save (libvirt's test driver) refuse the flags: plain undefine.
      if (!(err instanceof FoundryError && /unsupported flags/.test(err.message))) throw err;
      await this.must(['undefine', '--', name], resource);
    }
  }

  /** Defines (or redefines) a libvirt secret from XML, through a private temp file like define(). */
  async secretDefine(xml: string, resource: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-virsh-'));
    try {
      const file = join(dir, 'secret.xml');
      writeFileSync(file, xml, { mode: 0o600 });
      await this.must(['secret-define', '--file', file], resource);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Sets a secret's value from a file read as raw bytes (`--plain`); the value never appears in argv. */
  async secretSetValue(uuid: string, file: string, resource: string): Promise<void> {
    await this.must(['secret-set-value', '--secret', uuid, '--file', file, '--plain'], resource);
  }

  /** Undefines a secret; no-op when libvirt holds none with this uuid. */
  async secretUndefine(uuid: string, resource: string): Promise<void> {
    const r = await this.exec(['secret-undefine', '--secret', uuid]);
    if (r.code !== 0 && !/no secret with matching uuid|Secret not found/i.test(r.stderr)) throw new FoundryError('VM_ACTION', `virsh secret-undefine failed for ${resource}: ${cleanError(r.stderr) || `exit ${r.code}`}`, { resource });
  }

  /** `virsh version` first lines, for probe. */
  async version(): Promise<string> {
    const out = await this.must(['version'], this.uri);
    return out.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(', ');
  }

  private async unlessMissing(args: string[], name: string): Promise<string | undefined> {
    try {
      return await this.must(args, name);
    } catch (err) {
      if (err instanceof FoundryError && err.details?.notFound === true) return undefined;
      throw err;
    }
  }
}

/** virsh prints "error: ..." lines; keep them, one line, without the prefix. */
export function cleanError(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim().replace(/^error:\s*/, ''))
    .filter((l) => l !== '')
    .join('; ');
}
