/**
 * The node side of an ingress Service: takes the hub's `ingress-routes` command, generates nginx's
 * configuration for this agent (its hub URL and CA, its state dir) and applies it through NginxRunner, one
 * apply at a time (a newer table waiting replaces an older one). The last table is kept in the state dir,
 * so a restarted agent whose nginx is gone (a reboot) starts it again before the hub answers.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { nginxConfig, type IngressBody } from './nginx-config.js';
import { NginxRunner, workDirFor, type ApplyResult } from './nginx-runner.js';

/** Options of the ingress host. */
export interface IngressHostOptions {
  stateDir: string;
  hubUrl: string;
  hubCaFile?: string;
  logger: Logger;
  /** nginx binary (default nginx). */
  nginx?: string;
}

/** Runs the ingresses the hub assigns to this node. */
export class IngressHost {
  private readonly runners = new Map<string, NginxRunner>();
  private readonly waiting = new Map<string, IngressBody>();
  private readonly busy = new Map<string, Promise<void>>();
  /** The outcome of the last apply per service (status and tests). */
  readonly last = new Map<string, ApplyResult & { routes: number; at: string }>();

  constructor(private readonly opts: IngressHostOptions) {}

  /** Folder of one ingress under the state dir. */
  dirOf(service: string): string {
    return join(this.opts.stateDir, 'ingress', service);
  }

  /** Applies a table (queued behind one in progress; only the newest queued one is applied). */
  apply(body: IngressBody): Promise<void> {
    this.waiting.set(body.service, body);
    const running = this.busy.get(body.service);
    if (running !== undefined) return running.then(() => this.busy.get(body.service));
    const work = (async () => {
      for (let next = this.waiting.get(body.service); next !== undefined; next = this.waiting.get(body.service)) {
        this.waiting.delete(body.service);
        await this.applyOne(next);
      }
    })().finally(() => this.busy.delete(body.service));
    this.busy.set(body.service, work);
    return work;
  }

  /** Starts nginx from the tables kept in the state dir when it is not running (after a reboot). */
  async resume(): Promise<void> {
    const dir = join(this.opts.stateDir, 'ingress');
    const services = await readFile(join(dir, 'services.json'), 'utf8').then((t) => JSON.parse(t) as string[]).catch(() => [] as string[]);
    for (const service of services) {
      const body = await readFile(join(this.dirOf(service), 'routes.json'), 'utf8').then((t) => JSON.parse(t) as IngressBody).catch(() => undefined);
      if (body !== undefined && (await this.runner(service).pid()) === undefined) await this.apply(body);
    }
  }

  /** Stops every nginx this host runs (graceful). Not called on agent stop: the ingress outlives the agent. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  private runner(service: string): NginxRunner {
    let r = this.runners.get(service);
    if (r === undefined) {
      r = new NginxRunner({ dir: this.dirOf(service), nginx: this.opts.nginx });
      this.runners.set(service, r);
    }
    return r;
  }

  private async applyOne(body: IngressBody): Promise<void> {
    const { logger } = this.opts;
    const dir = this.dirOf(body.service);
    let result: ApplyResult;
    try {
      const text = nginxConfig(body, { dir, workDir: workDirFor(dir), hubUrl: this.opts.hubUrl, hubCaFile: this.opts.hubCaFile, user: process.getuid?.() === 0 ? 'nobody nogroup' : undefined });
      result = await this.runner(body.service).apply(text);
      if (result.status !== 'refused') await this.remember(body);
    } catch (err) {
      result = { status: 'refused', message: errorMessage(err) };
    }
    this.last.set(body.service, { ...result, routes: body.routes.length, at: new Date().toISOString() });
    if (result.status === 'refused') logger.error({ event: 'ingress-refused', service: body.service, routes: body.routes.length }, `ingress ${body.service} kept its running configuration: ${result.message}`);
    else if (result.status !== 'unchanged') logger.info({ event: 'ingress-applied', service: body.service, result: result.status, routes: body.routes.length }, `ingress ${body.service} ${result.status} with ${body.routes.length} routes`);
  }

  /** Keeps the table (and the list of services) for resume(); written atomically. */
  private async remember(body: IngressBody): Promise<void> {
    const base = join(this.opts.stateDir, 'ingress');
    await mkdir(this.dirOf(body.service), { recursive: true });
    await writeFileAtomic(join(this.dirOf(body.service), 'routes.json'), JSON.stringify(body));
    const services = await readFile(join(base, 'services.json'), 'utf8').then((t) => JSON.parse(t) as string[]).catch(() => [] as string[]);
    if (!services.includes(body.service)) await writeFileAtomic(join(base, 'services.json'), JSON.stringify([...services, body.service].sort()));
  }
}
