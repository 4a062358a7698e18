/**
 * The hub's workspace service: requests go through the one PlacementQueue (serialized: no GPU handed out
 * twice), every change is a commit through the InfraRepoWriter (whose build step re-reads Git and
 * re-checks the placement), and the lifecycle is derived from Git and the agents' status. Git is the
 * source of truth: what an admin pushes (a move, a new unplaced workspace, a drain) wins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { FoundryError } from '../../common/errors.js';
import { loadInfraDir } from '../../common/infra/load.js';
import type { InfraRepo, Workspace } from '../../common/infra/model.js';
import type { WorkspaceCreateRequest } from '../../common/generated/http/workspace-create.js';
import { PlacementQueue } from '../scheduler/placement-queue.js';
import type { NoPlacement, Placement, PlaceOptions } from '../scheduler/place.js';
import type { CommitPlan, InfraRepoWriter } from '../gitops/repo-writer.js';
import { withWorkspace } from '../secrets/repo-reencrypt.js';
import { requestFromWorkspace as requestOf, snapshotFromInfra, type LiveNode } from '../scheduler/from-infra.js';
import { recheckPlacement } from '../scheduler/place.js';
import { phaseOf, REMOVAL_PENDING, type NodeStatusBody } from './lifecycle.js';
import type { LifecycleRepo } from '../store/lifecycle-repo.js';
import { removeDoc, setFields, workspaceFile, workspacePath } from './workspace-yaml.js';

/** Collaborators of the service. */
export interface WorkspaceServiceDeps {
  writer: InfraRepoWriter;
  lifecycle: LifecycleRepo;
  audit: (actor: string, action: string, target?: string, details?: Record<string, unknown>) => Promise<void>;
  /** The live view of the nodes of a repo (online, reported GPUs). */
  live: (repo: InfraRepo) => Promise<ReadonlyMap<string, LiveNode>>;
  /** The status body a node last reported, or undefined. */
  nodeStatus: (node: string) => Promise<NodeStatusBody | undefined>;
  log?: FastifyBaseLogger;
  now?: () => Date;
  options?: PlaceOptions;
  /**
   * Re-encrypts, in the checkout, the repo secrets whose nodes change when `before` becomes `after`
   * (hub/secrets/repo-reencrypt.ts); its files join the placement's commit. Absent: nothing is re-encrypted.
   */
  reencrypt?: (dir: string, before: InfraRepo, after: InfraRepo) => Promise<{ changes: Array<{ path: string; content: string | null }>; done: string[]; skipped: string[] }>;
  /**
   * Runs `fn` holding a lock shared by every hub replica (store.leases.withLock): placements decide and
   * commit one replica at a time, so two replicas never place the same workspace. Absent: one process.
   */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/** Outcome of a create request. */
export type CreateResult = { ok: true; placement: Placement; revision: string } | { ok: false; refusal: NoPlacement };

const conflict = (what: string, resource: string): FoundryError => new FoundryError('PLACEMENT_CONFLICT', what, { resource });

/** Places, changes and tracks workspaces through Git. */
export class WorkspaceService {
  readonly placements: PlacementQueue;
  private cache: { revision: string; repo: InfraRepo; loadedAt: number } | undefined;
  private readonly creating = new Map<string, Workspace>();
  private readonly committed = new Map<string, string>();
  private readonly own = new Set<string>();
  private readonly refused = new Map<string, string>();
  private seenRevision: string | undefined;
  /** The tip the placement queue's state was last checked against under the placement lock. */
  private queueTip: string | undefined;
  private liveSignature = '';
  private syncing: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private readonly now: () => Date;

  constructor(private readonly deps: WorkspaceServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.placements = new PlacementQueue({ load: () => this.loadSnapshot(), commit: (p) => this.commitPlacement(p), options: deps.options });
  }

  /** The repo at the branch tip (cached per revision); `cached` skips asking for the tip when a load exists. */
  async repo(opts: { cached?: boolean } = {}): Promise<InfraRepo> {
    if (opts.cached === true && this.cache !== undefined) return this.cache.repo;
    const tip = await this.deps.writer.tip();
    if (this.cache?.revision === tip) return this.cache.repo;
    return this.deps.writer.read(async (dir, rev) => this.remember(rev, await loadInfraDir(dir, { revision: rev })));
  }

  /** A revision this service pushed itself (its placements are already in the placement queue's state). */
  notePushed(revision: string): void {
    this.own.add(revision);
    if (this.own.size > 1000) this.own.delete(this.own.values().next().value as string);
  }

  /** Hears the revision of each of this service's commits (others on the same writer, enrollment's, are not its own). */
  private readonly mine = (revision: string): void => this.notePushed(revision);

  private remember(revision: string, repo: InfraRepo): InfraRepo {
    this.cache = { revision, repo, loadedAt: Date.now() };
    return repo;
  }

  private async loadSnapshot() {
    const repo = await this.deps.writer.read(async (dir, rev) => this.remember(rev, await loadInfraDir(dir, { revision: rev })));
    return snapshotFromInfra(repo, await this.deps.live(repo));
  }

  /** Creates a workspace: plan, commit its file with node and GPUs, record Pending → Placed. */
  async create(body: WorkspaceCreateRequest, actor: string): Promise<CreateResult> {
    const at = this.now();
    // tenants and templates change rarely: the last load is good enough to check them (the commit re-reads Git)
    const repo = await this.repo({ cached: true });
    if (!repo.tenants.has(body.tenant)) throw new FoundryError('NOT_FOUND', `no tenant ${body.tenant} in the infra repo`, { resource: body.tenant });
    if (!repo.templates.has(body.template)) throw new FoundryError('NOT_FOUND', `no workspace template ${body.template} in the infra repo`, { resource: body.template });
    const name = body.name ?? `${body.tenant}-${randomBytes(3).toString('hex')}`.slice(0, 63);
    if (repo.workspaces.has(name) || this.creating.has(name)) throw new FoundryError('CONFLICT', `workspace ${name} already exists`, { resource: name });
    const ws: Workspace = {
      apiVersion: 'foundry.cloud/v1',
      kind: 'Workspace',
      metadata: body.labels === undefined ? { name } : { name, labels: body.labels },
      spec: { tenant: body.tenant, template: body.template, gpus: body.gpus.model === undefined ? { count: body.gpus.count } : { count: body.gpus.count, model: body.gpus.model } },
    };
    if (body.nodeSelector !== undefined) ws.spec.nodeSelector = body.nodeSelector;
    ws.spec.state = body.state ?? 'running';
    this.creating.set(name, ws);
    try {
      await this.refreshIfLiveChanged(repo);
      const result = await this.placing(async () => this.placements.request(requestOf(repo, ws)));
      if (!result.ok) {
        await this.deps.audit(actor, 'workspace.refuse', name, { tenant: body.tenant, reasons: result.reasons });
        return { ok: false, refusal: result };
      }
      const revision = this.committed.get(name);
      // The placement queue answers a workspace it already holds with its existing placement, without a commit:
      // for a create that means the name is taken (the cached repo above may predate it).
      if (revision === undefined) throw new FoundryError('CONFLICT', `workspace ${name} already exists`, { resource: name });
      this.committed.delete(name);
      await this.deps.lifecycle.record(name, body.tenant, { phase: 'Pending', reason: 'Requested', message: `requested by ${actor}`, node: null }, null, at);
      await this.deps.lifecycle.record(name, body.tenant, { phase: 'Placed', reason: 'Scheduled', message: result.explanation.split('\n')[0] ?? '', node: result.node }, revision);
      await this.deps.audit(actor, 'workspace.create', name, { tenant: body.tenant, node: result.node, gpus: result.gpuUuids, revision });
      return { ok: true, placement: result, revision };
    } finally {
      this.creating.delete(name);
    }
  }

  /**
   * Runs a placement under the replicas' placement lock, on a queue that has seen the current tip: a tip
   * pushed meanwhile by anyone but this hub (another replica's placement) makes the queue re-read Git first.
   */
  private async placing<T>(fn: () => Promise<T>): Promise<T> {
    const lock = this.deps.lock ?? (<R>(_name: string, f: () => Promise<R>) => f());
    return lock('workspace-placement', async () => {
      const tip = await this.deps.writer.tip();
      if (this.queueTip !== undefined && tip !== this.queueTip && !this.own.has(tip)) await this.placements.refresh();
      try {
        return await fn();
      } finally {
        this.queueTip = await this.deps.writer.tip().catch(() => undefined);
      }
    });
  }

  /** The placement queue's commit: re-read Git, re-check the GPUs, node and quota, write the file. */
  private async commitPlacement(p: Placement): Promise<void> {
    const fresh = this.creating.get(p.workspace);
    const r = await this.deps.writer.commit(async (dir, rev) => {
      const repo = await loadInfraDir(dir, { revision: rev });
      const existing = repo.workspaces.get(p.workspace);
      // The decision again, by place() itself, on the fleet as Git holds it now (GPUs taken, drain, quota, capacity).
      const request = fresh !== undefined ? requestOf(repo, fresh) : existing !== undefined ? requestOf(repo, existing.doc) : undefined;
      const refused = request === undefined ? undefined : recheckPlacement(p, request, snapshotFromInfra(repo, await this.deps.live(repo)));
      if (refused !== undefined) throw conflict(refused.reasons.map((r) => r.reason).join('; '), p.workspace);
      const gpuFields: Array<[string[], unknown]> = p.gpuUuids.length > 0 ? [[['spec', 'gpus', 'uuids'], p.gpuUuids]] : [];
      if (fresh !== undefined) {
        if (existing !== undefined) throw new FoundryError('CONFLICT', `workspace ${p.workspace} already exists`, { resource: p.workspace });
        const doc: Workspace = { ...fresh, spec: { ...fresh.spec, node: p.node, gpus: { ...fresh.spec.gpus, ...(p.gpuUuids.length > 0 ? { uuids: p.gpuUuids } : {}) } } };
        return this.withSecrets(dir, repo, doc, { changes: [{ path: workspacePath(p.tenant, p.workspace), content: workspaceFile(doc, 'Placed by the hub; see the commit message for why this node.') }], message: p.explanation });
      }
      if (existing === undefined) throw new FoundryError('NOT_FOUND', `workspace ${p.workspace} is gone from the infra repo`, { resource: p.workspace });
      if (existing.doc.spec.node !== undefined) throw conflict(`workspace ${p.workspace} was placed meanwhile`, p.workspace);
      const file = existing.source.file;
      const text = readFileSync(join(dir, file), 'utf8');
      const placed: Workspace = { ...existing.doc, spec: { ...existing.doc.spec, node: p.node, ...(p.gpuUuids.length > 0 ? { gpus: { ...existing.doc.spec.gpus, count: existing.doc.spec.gpus?.count ?? p.gpuUuids.length, uuids: p.gpuUuids } } : {}) } };
      return this.withSecrets(dir, repo, placed, { changes: [{ path: file, content: setFields(text, file, 'Workspace', p.workspace, [[['spec', 'node'], p.node], ...gpuFields]) }], message: p.explanation });
    }, this.mine);
    if (r !== undefined) this.committed.set(p.workspace, r.revision);
  }

  /** Adds to a placement's commit the repo secrets re-encrypted for it, and says so in its message. */
  private async withSecrets(dir: string, repo: InfraRepo, placed: Workspace, plan: CommitPlan): Promise<CommitPlan> {
    if (this.deps.reencrypt === undefined) return plan;
    const r = await this.deps.reencrypt(dir, repo, withWorkspace(repo, placed));
    for (const why of r.skipped) this.deps.log?.warn({ workspace: placed.metadata.name }, `repo secret not re-encrypted: ${why}`);
    const notes = [
      ...(r.done.length > 0 ? [`re-encrypted repo secrets for this placement (+ node added, - node dropped):\n${r.done.map((d) => `  ${d}`).join('\n')}`] : []),
      ...(r.skipped.length > 0 ? [`not re-encrypted (an admin must):\n${r.skipped.map((d) => `  ${d}`).join('\n')}`] : []),
    ];
    return { changes: [...plan.changes, ...r.changes], message: [plan.message, ...notes].join('\n\n') };
  }

  /** Sets spec.state (running|stopped) of a workspace through a commit; false when it already was. */
  async setState(name: string, state: 'running' | 'stopped', actor: string): Promise<boolean> {
    const r = await this.deps.writer.commit(async (dir, rev) => {
      const ws = (await loadInfraDir(dir, { revision: rev })).workspaces.get(name);
      if (ws === undefined) throw new FoundryError('NOT_FOUND', `no workspace ${name}`, { resource: name });
      if ((ws.doc.spec.state ?? 'running') === state) return undefined;
      const file = ws.source.file;
      const content = setFields(readFileSync(join(dir, file), 'utf8'), file, 'Workspace', name, [[['spec', 'state'], state]]);
      return { changes: [{ path: file, content }], message: `${state === 'stopped' ? 'stop' : 'start'} workspace ${name}\n\nrequested by ${actor} through the hub api.` };
    }, this.mine);
    if (r !== undefined) await this.deps.audit(actor, `workspace.${state === 'stopped' ? 'stop' : 'start'}`, name, { revision: r.revision });
    return r !== undefined;
  }

  /** Deletes a workspace's document (its file when nothing else is in it); its GPUs are free again. */
  async remove(name: string, actor: string): Promise<void> {
    const r = await this.deps.writer.commit(async (dir, rev) => {
      const ws = (await loadInfraDir(dir, { revision: rev })).workspaces.get(name);
      if (ws === undefined) throw new FoundryError('NOT_FOUND', `no workspace ${name}`, { resource: name });
      const file = ws.source.file;
      const policy = ws.doc.spec.reclaimPolicy ?? 'Retain';
      const content = removeDoc(readFileSync(join(dir, file), 'utf8'), file, 'Workspace', name);
      return { changes: [{ path: file, content }], message: `delete workspace ${name}\n\nrequested by ${actor} through the hub api; volumes: reclaimPolicy ${policy}.` };
    }, this.mine);
    await this.placements.release(name);
    await this.deps.audit(actor, 'workspace.delete', name, { revision: r?.revision });
  }

  /** Sets or clears a node's spec.drain through a commit; false when it already was. */
  async setDrain(node: string, drain: boolean, actor: string): Promise<boolean> {
    const r = await this.deps.writer.commit(async (dir, rev) => {
      const n = (await loadInfraDir(dir, { revision: rev })).nodes.get(node);
      if (n === undefined) throw new FoundryError('NOT_FOUND', `no node ${node} in the infra repo`, { resource: node });
      if ((n.doc.spec.drain === true) === drain) return undefined;
      const file = n.source.file;
      const content = setFields(readFileSync(join(dir, file), 'utf8'), file, 'Node', node, [[['spec', 'drain'], drain]]);
      const why = drain ? 'no new workspaces are placed there; existing ones stay until moved or deleted' : 'it takes new workspaces again';
      return { changes: [{ path: file, content }], message: `${drain ? 'drain' : 'undrain'} node ${node}\n\nrequested by ${actor}: ${why}.` };
    }, this.mine);
    await this.placements.refresh();
    if (r !== undefined) await this.deps.audit(actor, drain ? 'node.drain' : 'node.undrain', node, { revision: r.revision });
    return r !== undefined;
  }

  /**
   * Level-triggered pass: after a new revision re-read Git, place unplaced workspaces; then refresh every
   * lifecycle. A call while a pass runs gets one more pass after it (that pass may have read the tip
   * before what the caller wants seen, e.g. a webhook's revision); concurrent callers share it.
   */
  sync(): Promise<void> {
    if (this.syncing === undefined) {
      this.syncing = this.syncOnce().finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    this.again ??= this.syncing.catch(() => undefined).then(() => {
      this.again = undefined;
      return this.sync();
    });
    return this.again;
  }

  /** The placement queue caches its fleet state: a node that came online or went away (or new GPU inventory) makes it re-read. */
  private async refreshIfLiveChanged(repo: InfraRepo): Promise<void> {
    const sig = JSON.stringify([...(await this.deps.live(repo))].sort(([a], [b]) => (a < b ? -1 : 1)));
    if (sig === this.liveSignature) return;
    this.liveSignature = sig;
    await this.placements.refresh();
  }

  private async syncOnce(): Promise<void> {
    const tip = await this.deps.writer.tip();
    await this.refreshIfLiveChanged(await this.repo({ cached: true }));
    if (tip !== this.seenRevision) {
      this.seenRevision = tip;
      if (!this.own.has(tip)) await this.placements.refresh();
      await this.placeUnplaced(await this.repo());
    }
    await this.refreshLifecycle(await this.repo());
  }

  private async placeUnplaced(repo: InfraRepo): Promise<void> {
    for (const { doc } of repo.workspaces.values()) {
      const name = doc.metadata.name;
      if (doc.spec.node !== undefined || this.creating.has(name) || this.refused.get(name) === repo.revision) continue;
      try {
        // Under the lock, on Git as it is now: another replica may have placed (or removed) it meanwhile.
        const r = await this.placing(async () => {
          const now = await this.repo();
          const current = now.workspaces.get(name)?.doc;
          return current === undefined || current.spec.node !== undefined ? undefined : this.placements.request(requestOf(now, current));
        });
        if (r === undefined) continue;
        if (r.ok) {
          await this.deps.lifecycle.record(name, doc.spec.tenant, { phase: 'Placed', reason: 'Scheduled', message: r.explanation.split('\n')[0] ?? '', node: r.node }, this.committed.get(name) ?? null);
          this.committed.delete(name);
          await this.deps.audit('foundry-hub', 'workspace.place', name, { node: r.node, gpus: r.gpuUuids });
        } else {
          this.refused.set(name, repo.revision);
          await this.deps.lifecycle.record(name, doc.spec.tenant, { phase: 'Pending', reason: 'Unschedulable', message: r.explanation, node: null }, repo.revision);
          await this.deps.audit('foundry-hub', 'workspace.unschedulable', name, { reasons: r.reasons });
        }
      } catch (err) {
        this.deps.log?.warn({ workspace: name, err: err instanceof Error ? err.message : String(err) }, 'placing an unplaced workspace failed');
      }
    }
  }

  /** The lifecycle of one workspace as the API shows it, or null. */
  async lifecycleView(name: string): Promise<Record<string, unknown> | null> {
    const row = await this.deps.lifecycle.get(name);
    return row === undefined ? null : { phase: row.phase, reason: row.reason, message: row.message, revision: row.revision, ...row.times, updatedAt: row.updatedAt };
  }

  /** Derives every workspace's phase from `repo` and the nodes' status; records and audits changes. */
  async refreshLifecycle(repo: InfraRepo): Promise<void> {
    const loadedAt = this.cache?.revision === repo.revision ? this.cache.loadedAt : 0;
    const seen = new Set<string>();
    for (const { doc } of repo.workspaces.values()) {
      seen.add(doc.metadata.name);
      const cur = await this.deps.lifecycle.get(doc.metadata.name);
      if (cur !== undefined && Date.parse(cur.updatedAt) > loadedAt) continue;
      if (doc.spec.node === undefined && cur?.reason === 'Unschedulable') continue;
      const o = phaseOf(doc, doc.spec.node === undefined ? undefined : await this.deps.nodeStatus(doc.spec.node));
      if (await this.deps.lifecycle.record(doc.metadata.name, doc.spec.tenant, o, repo.revision)) {
        await this.deps.audit('foundry-hub', `workspace.${o.phase.toLowerCase()}`, doc.metadata.name, { reason: o.reason, node: o.node });
      }
    }
    for (const row of await this.deps.lifecycle.list()) {
      // A removal the node has not carried out yet (or refused) is looked at again until the node lets it go.
      if (seen.has(row.name) || row.phase === 'Deleted' || (Date.parse(row.updatedAt) > loadedAt && !REMOVAL_PENDING.has(row.reason))) continue;
      const o = phaseOf(undefined, row.node === null ? undefined : await this.deps.nodeStatus(row.node), row.name, row.node);
      if (await this.deps.lifecycle.record(row.name, row.tenant, o, repo.revision)) await this.deps.audit('foundry-hub', `workspace.${o.phase === 'Deleted' ? 'deleted' : o.reason === 'PruneRefused' ? 'prune-refused' : 'removing'}`, row.name, { reason: o.reason });
    }
  }
}
