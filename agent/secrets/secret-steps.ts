/**
 * The runbook's secret steps. `resolveSecrets` (after observe) reads every secret the desired containers
 * refer to, puts a keyed digest of each value into the container's spec (so its spec hash changes
 * exactly when a value does) and keeps the values in memory for the runtime; a secret that cannot be
 * read holds its container as it runs (its last good value) and says why. `holdForSecrets` (after plan)
 * turns the actions on held containers into noops; `putSecretsFor` hands values to the runtime right
 * before a create; `pruneSecrets` (last) removes runtime secrets no container uses any more.
 */
import { FoundryError } from '../../common/errors.js';
import { specHash } from '../../common/hash.js';
import { resourceKey, type Action, type DesiredContainer, type DesiredResource, type DesiredVm, type RuntimeSecret } from '../desired.js';
import { holdsSecrets, type RuntimeDriver } from '../drivers/driver.js';
import { recordError, type RunContext } from '../reconcile/context.js';
import { runtimeSecretName, secretDigest, type SecretContext } from './resolver.js';

/** Resolves the secrets of every desired container (see the file comment). */
export async function resolveSecrets(ctx: RunContext): Promise<void> {
  const desired = ctx.desired;
  if (desired === undefined || !desired.resources.some(usesSecrets)) return;
  const sctx = secretContext(ctx);
  const observedHash = new Map(ctx.observed.map((o) => [resourceKey(o), o.specHash]));
  const resources: DesiredResource[] = [];
  for (const r of desired.resources) {
    if (!usesSecrets(r)) {
      resources.push(r);
      continue;
    }
    const resolved = await resolveContainer(ctx, r, sctx);
    if ('spec' in resolved) {
      resources.push(resolved.spec);
      continue;
    }
    const key = resourceKey(r);
    const running = observedHash.get(key);
    const message = `${resolved.problems.join('; ')}; ${running === undefined ? 'not created until it can be read' : 'keeps running with its last good value'}`;
    ctx.secretHolds.set(key, message);
    recordError(ctx, 'secrets', new FoundryError('SECRET_UNAVAILABLE', message, { resource: r.id }));
    ctx.deps.logger.warn({ event: 'secret-unavailable', id: r.id, secrets: resolved.names }, message);
    // Same hash as what runs: the planner leaves it alone (and still restarts it when it was stopped).
    resources.push(running === undefined ? r : { ...r, specHash: running });
  }
  ctx.desired = { ...desired, resources };
}

function usesSecrets(r: DesiredResource): r is DesiredContainer | DesiredVm {
  return (r.kind === 'container' || r.kind === 'vm') && (r.spec.secrets ?? []).length > 0;
}

/** Files of the revision the desired state came from; none when it was restored or is a fallback to an older revision. */
function secretContext(ctx: RunContext): SecretContext {
  const good = ctx.memory.lastGood;
  if (!ctx.usingFallback) return { repo: ctx.candidate, dir: ctx.fetched?.dir };
  const same = good?.repo !== undefined && ctx.fetched?.revision === good.revision;
  return same ? { repo: good.repo, dir: ctx.fetched?.dir } : { repo: undefined, dir: undefined };
}

async function resolveContainer<R extends DesiredContainer | DesiredVm>(ctx: RunContext, r: R, sctx: SecretContext): Promise<{ spec: R } | { problems: string[]; names: string[] }> {
  const secrets = ctx.deps.secrets;
  if (secrets === undefined) return { problems: ['this agent has no secret sources configured'], names: (r.spec.secrets ?? []).map((s) => s.name) };
  const refs = r.spec.secrets ?? [];
  const results = await Promise.all(refs.map((ref) => secrets.resolvers.resolve(r.owner, ref, sctx)));
  const problems = results.flatMap((x) => ('problem' in x ? [x.problem] : []));
  if (problems.length > 0) return { problems, names: refs.filter((_, i) => 'problem' in results[i]!).map((s) => s.name) };
  const key = await secrets.digestKey();
  const resolved: RuntimeSecret[] = refs.map((ref, i) => {
    const value = (results[i] as { value: Uint8Array }).value;
    const digest = secretDigest(key, ref, value);
    const runtimeName = runtimeSecretName(ctx.deps.node, digest);
    ctx.secretValues.set(runtimeName, value);
    return { ...ref, digest, runtimeName };
  });
  const spec = { ...r.spec, secrets: resolved };
  return { spec: { ...r, spec, specHash: specHash({ kind: r.kind, name: r.ref.name, spec }) } as R };
}

/** Actions on held containers become noops marked SecretUnavailable (start and stop still happen). */
export async function holdForSecrets(ctx: RunContext): Promise<void> {
  if (ctx.secretHolds.size === 0 || ctx.plan === undefined) return;
  for (const a of ctx.plan.actions) {
    const why = ctx.secretHolds.get(a.key);
    if (why === undefined || a.type === 'start' || a.type === 'stop' || a.type === 'remove') continue;
    a.type = 'noop';
    a.held = 'SecretUnavailable';
    a.reason = why;
  }
}

/** Before a create or recreate: the runtime gets the values of the container's secrets (content-addressed names). */
export async function putSecretsFor(ctx: RunContext, a: Action, driver: RuntimeDriver): Promise<void> {
  const d = a.desired;
  if ((a.type !== 'create' && a.type !== 'recreate') || (d?.kind !== 'container' && d?.kind !== 'vm') || (d.spec.secrets ?? []).length === 0) return;
  if (!holdsSecrets(driver)) throw new FoundryError('SECRET_UNAVAILABLE', `${d.id} uses secrets but the ${driver.name} driver cannot hold them`, { resource: d.id });
  for (const s of d.spec.secrets ?? []) {
    const value = s.runtimeName === undefined ? undefined : ctx.secretValues.get(s.runtimeName);
    if (value === undefined) throw new FoundryError('SECRET_UNAVAILABLE', `secret ${s.name} of ${d.id} was not resolved this run`, { resource: d.id });
    await driver.putSecret(s.runtimeName!, value, d.id);
  }
}

/** Last: removes this node's runtime secrets that neither a desired container nor an existing one (listed again, after apply) refers to. */
export async function pruneSecrets(ctx: RunContext): Promise<void> {
  const desired = new Set<string>();
  for (const r of ctx.desired?.resources ?? []) if (r.kind === 'container') for (const s of r.spec.secrets ?? []) if (s.runtimeName !== undefined) desired.add(s.runtimeName);
  for (const d of ctx.deps.drivers) {
    if (!holdsSecrets(d) || d.kinds.some((k) => ctx.unavailableKinds.has(k))) continue;
    try {
      const names = await d.listSecrets(ctx.deps.node);
      if (names.every((n) => desired.has(n))) continue;
      // A held container still uses its old secret: keep whatever an existing container names.
      const keep = new Set(desired);
      for (const o of await d.list(ctx.deps.node)) for (const n of (o.facts.secrets ?? '').split(',')) if (n !== '') keep.add(n);
      for (const name of names) {
        if (keep.has(name)) continue;
        await d.removeSecret(name);
        ctx.deps.logger.info({ event: 'secret-pruned', name }, `removed runtime secret ${name}: no container uses it`);
      }
    } catch (err) {
      ctx.deps.logger.warn({ event: 'secret-prune-failed', reason: err instanceof Error ? err.message : String(err) }, 'could not prune runtime secrets; retried next run');
    }
  }
}
