/**
 * Enrollment, as a runbook: reserve (token checked, use counted, node and credential created, in one
 * transaction), then record the node in the infra repo (a foundry-hub commit adding nodes/NAME.yaml; an
 * existing file the admins wrote is kept), then answer with the credential and the agent configuration.
 * A failed commit releases the reservation, so the token can be used again and nothing half-exists.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HubStore } from '../store/hub-store.js';
import type { InfraRepoWriter } from '../gitops/repo-writer.js';
import type { EnrollRequest } from '../../common/generated/http/enroll-request.js';
import type { EnrollResult } from '../../common/enroll/enroll-result.js';
import { decodeJoinToken } from '../../common/enroll/token-format.js';
import { joinTokenScope, recordNodeFile, releaseEnrollment, reserveEnrollment } from './join-tokens.js';
import { loadInfraDir } from '../../common/infra/load.js';
import { nodeFilePath, renderNodeFile, withAgeRecipient } from './node-file.js';
import { readFile } from 'node:fs/promises';

/** Collaborators of enrollNode. */
export interface EnrollDeps {
  store: HubStore;
  /** Writes the hosted (or external) infra repo; absent: the node file is left to the admins. */
  writer: InfraRepoWriter | undefined;
  /** The repo URL agents clone when the hub does not host it (external mode). */
  externalRepoUrl: string | undefined;
  now: () => Date;
}

/**
 * Enrolls a node; throws JOIN_TOKEN (also for a token made for another node, or a node Git declares that
 * the token was not made for), NODE_NAME_TAKEN or a git error (then nothing was enrolled).
 */
export async function enrollNode(deps: EnrollDeps, req: EnrollRequest, hubUrl: string): Promise<EnrollResult> {
  const { secret } = decodeJoinToken(req.token);
  const now = deps.now();
  const tokens = deps.store.joinTokens;
  const declaredProfile = await declaredProfileOf(deps, secret, req.node);
  const r = await reserveEnrollment(tokens, { secret, node: req.node, hostname: req.inventory.hostname, inventory: req.inventory, declaredProfile }, now);
  if (req.ageRecipient !== undefined) await deps.store.setNodeRecipient(req.node, req.ageRecipient, `join-token:${r.tokenId}`);
  const path = nodeFilePath(req.node);
  let nodeFile: EnrollResult['nodeFile'] = { path, status: 'not-written', revision: null };
  try {
    if (deps.writer !== undefined) {
      let kept = false;
      const content = renderNodeFile({ node: req.node, profile: r.profile, labels: r.labels, inventory: req.inventory, tokenId: r.tokenId, at: now, ...(req.ageRecipient === undefined ? {} : { ageRecipient: req.ageRecipient }) });
      const done = await deps.writer.commit(async (dir) => {
        kept = existsSync(join(dir, path));
        if (kept) return undefined;
        return { changes: [{ path, content }], message: `enroll node ${req.node} (profile ${r.profile}, join token ${r.tokenId})\n\nhost ${req.inventory.hostname}, ${req.inventory.cpu.cores} cpus, ${req.inventory.gpus.length} gpus` };
      });
      nodeFile = { path, status: kept ? 'kept' : 'committed', revision: done?.revision ?? null };
      await recordNodeFile(tokens, req.node, nodeFile.revision === null ? path : `${path}@${nodeFile.revision}`);
    }
  } catch (err) {
    await releaseEnrollment(tokens, r);
    throw err;
  }
  if (nodeFile.status === 'kept' && req.ageRecipient !== undefined) await recordKeyInKeptFile(deps, req.node, path, req.ageRecipient, r.tokenId);
  await deps.store.audit(`join-token:${r.tokenId}`, 'node.enroll', req.node, { hostname: req.inventory.hostname, profile: r.profile, nodeFile: nodeFile.status });
  const base = hubUrl.replace(/\/+$/, '');
  return {
    node: req.node,
    credential: r.credential,
    config: { node: req.node, repo: { url: deps.externalRepoUrl ?? `${base}/git/infra.git` }, hub: { url: base } },
    nodeFile,
  };
}

/**
 * The profile the infra repo declares for `node` (undefined when Git has no such Node, or the hub writes
 * no repo). Read only for a known token, so an unknown one costs no repo read.
 */
async function declaredProfileOf(deps: EnrollDeps, secret: string, node: string): Promise<string | undefined> {
  if (deps.writer === undefined || (await joinTokenScope(deps.store.joinTokens, secret)) === undefined) return undefined;
  return deps.writer.read(async (dir, rev) => (await loadInfraDir(dir, { revision: rev })).nodes.get(node)?.doc.spec.profile);
}

/**
 * A node file the admins wrote gets the node's age public key when it has none (comments kept). A file
 * that names another key is left alone: the secrets encrypted to that key need re-encrypting in the same
 * commit (`foundry secret recipients --from-hub` shows the difference). Best effort: a refused commit (the
 * repo would not validate) never fails the enrollment; the hub has the key either way.
 */
async function recordKeyInKeptFile(deps: EnrollDeps, node: string, path: string, recipient: string, tokenId: string): Promise<void> {
  try {
    await deps.writer!.commit(async (dir) => {
      const text = await readFile(join(dir, path), 'utf8');
      if (/^\s*ageRecipient:/m.test(text)) return undefined;
      const patched = withAgeRecipient(text, recipient);
      return patched === undefined ? undefined : { changes: [{ path, content: patched }], message: `node ${node}: record its age public key (enrolled with join token ${tokenId})` };
    });
  } catch (err) {
    await deps.store.audit(`join-token:${tokenId}`, 'node.age-recipient.not-written', node, { reason: err instanceof Error ? err.message.slice(0, 500) : String(err) });
  }
}
