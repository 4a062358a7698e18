/**
 * Enrollment routes: join tokens (admin: create, list, revoke), POST /api/v1/enroll (authenticated by the
 * join token itself), the installer GET /install.sh (a static file, never templated with request input)
 * and the agent bundle with its checksum and platform under /agent/. A listening hub saves its URL and certificate pin
 * so `foundry hub token create` can put them in tokens.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/principal.js';
import { FoundryError, isFoundryError } from '../../common/errors.js';
import type { HubServices } from '../services.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeAjvErrors, validatorFor } from '../../common/schema.js';
import { parseDuration } from '../../common/units.js';
import type { InfraRepoWriter } from '../gitops/repo-writer.js';
import type { EnrollRequest } from '../../common/generated/http/enroll-request.js';
import type { JoinTokenRequest } from '../../common/generated/http/join-token-request.js';
import { createJoinToken, hubIdentity, listJoinTokens, revokeJoinToken, saveHubIdentity } from '../enroll/join-tokens.js';
import { TOKEN_DEFAULTS, encodeJoinToken, installCommand } from '../../common/enroll/token-format.js';
import { pinOfPem } from '../../common/enroll/tls-pin.js';
import { enrollNode } from '../enroll/enroll-node.js';
import { BUNDLE_FILE, BUNDLE_PLATFORM_FILE, BUNDLE_SHA_FILE, ensureAgentBundle, type AgentBundle } from '../enroll/agent-bundle.js';

/** Options of the enrollment routes. */
export interface EnrollRouteOptions {
  /** The hub's writer of the hosted repo: node files are committed through it (none: not written, admins add them). */
  writer?: InfraRepoWriter;
  /** PEM certificate the hub serves (its pin goes into tokens). */
  tlsCert?: string | Buffer;
  /** Hub data dir: the agent bundle cache lives under it (no bundle without it). */
  dataDir?: string;
  /** URL nodes reach the hub at (default: the listening address, unless that is a wildcard). */
  publicUrl?: string;
  /** External infra repo URL (then no node file is committed; admins add it). */
  externalRepoUrl?: string;
  /** Package whose bundle nodes install (default: this one). */
  packageRoot?: string;
  now?: () => Date;
}

/** Enrollment answers `{ code, message }`, and 503 for anything on the hub's side (install.sh tries again later); the hub's error handler does the rest. */
const ENROLL_ERRORS = { config: { hubSideStatus: 503, errorDetails: false } };

/** Registers the enrollment routes. */
export function enrollRoutes(app: FastifyInstance, services: HubServices, opts: EnrollRouteOptions): void {
  const { store } = services;
  const writer = opts.writer;
  const tokens = store.joinTokens;
  const now = opts.now ?? (() => new Date());
  const pin = opts.tlsCert === undefined ? undefined : pinOfPem(opts.tlsCert);
  const packageRoot = opts.packageRoot ?? PACKAGE_ROOT;
  const admin = requirePrincipal(app, { role: 'admin' });
  let publicUrl = opts.publicUrl?.replace(/\/+$/, '');

  app.server.once('listening', () => {
    const a = app.server.address();
    if (publicUrl === undefined && typeof a === 'object' && a !== null && !['0.0.0.0', '::'].includes(a.address)) {
      const host = a.address.includes(':') ? `[${a.address}]` : a.address;
      publicUrl = `${opts.tlsCert === undefined ? 'http' : 'https'}://${host}:${a.port}`;
    }
    void saveHubIdentity(tokens, { url: publicUrl, pin }, now()).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'enroll: the hub identity could not be saved'));
  });

  app.post<{ Body: JoinTokenRequest }>('/api/v1/join-tokens', { preHandler: admin }, async (req, reply) => {
    const body = (req.body ?? {}) as JoinTokenRequest;
    const validate = validatorFor<JoinTokenRequest>('http/join-token-request.schema.json');
    if (!validate(body)) return reply.code(400).send({ code: 'BAD_REQUEST', message: `invalid join token request: ${describeAjvErrors(validate.errors).join('; ')}` });
    const ttlMs = parseDuration(body.ttl ?? TOKEN_DEFAULTS.ttl);
    if (ttlMs <= 0 || ttlMs > TOKEN_DEFAULTS.maxTtlMs) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'ttl must be more than 0 and at most 168h' });
    const actor = `${req.principal?.via ?? 'admin'}:${req.principal?.subject ?? '?'}`;
    const spec = { ttlMs, uses: body.uses ?? TOKEN_DEFAULTS.uses, profile: body.profile ?? TOKEN_DEFAULTS.profile, ...(body.node === undefined ? {} : { node: body.node }), labels: body.labels ?? {}, createdBy: actor };
    const created = await createJoinToken(tokens, spec, now());
    await store.audit(actor, 'join-token.create', created.id, { profile: spec.profile, node: body.node ?? null, uses: spec.uses, expiresAt: created.expiresAt });
    const hubUrl = body.hubUrl ?? publicUrl ?? (await hubIdentity(tokens)).url;
    const token = encodeJoinToken({ secret: created.secret, pin, hubUrl });
    return reply.code(201).send({
      id: created.id,
      token,
      expiresAt: created.expiresAt,
      maxUses: spec.uses,
      profile: spec.profile,
      node: body.node ?? null,
      labels: spec.labels,
      hubUrl: hubUrl ?? null,
      pin: pin ?? null,
      installCommand: installCommand(hubUrl, token, pin),
    });
  });

  app.get('/api/v1/join-tokens', { preHandler: admin }, async () => ({ tokens: await listJoinTokens(tokens, now()) }));

  app.post<{ Params: { id: string } }>('/api/v1/join-tokens/:id/revoke', { preHandler: admin }, async (req, reply) => {
    if (!(await revokeJoinToken(tokens, req.params.id))) return reply.code(404).send({ code: 'NOT_FOUND', message: `no join token ${req.params.id}` });
    await store.audit(`${req.principal?.via ?? 'admin'}:${req.principal?.subject ?? '?'}`, 'join-token.revoke', req.params.id);
    return { revoked: req.params.id };
  });

  app.post<{ Body: EnrollRequest }>('/api/v1/enroll', { bodyLimit: 256 * 1024, ...ENROLL_ERRORS }, async (req, reply) => {
    const validate = validatorFor<EnrollRequest>('http/enroll-request.schema.json');
    if (!validate(req.body)) return reply.code(400).send({ code: 'BAD_REQUEST', message: `invalid enroll request: ${describeAjvErrors(validate.errors).join('; ')}` });
    const hubUrl = req.body.hubUrl ?? publicUrl;
    if (hubUrl === undefined) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'hubUrl is required: the hub does not know its public url (start it with --public-url)' });
    try {
      const result = await enrollNode({ store, writer, externalRepoUrl: opts.externalRepoUrl, now }, req.body, hubUrl);
      req.log.info({ node: result.node, nodeFile: result.nodeFile.status }, 'node enrolled');
      return await reply.code(201).send(result);
    } catch (err) {
      req.log.warn({ node: req.body.node, code: isFoundryError(err) ? err.code : 'INTERNAL' }, 'enrollment refused');
      throw err;
    }
  });

  // The installer is served byte for byte from the package: nothing of the request goes into it.
  app.get('/install.sh', async (_req, reply) => reply.type('text/x-shellscript; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(join(packageRoot, 'install.sh'))));

  // Built (or found in the cache) once per hub process: the code the hub runs does not change under it.
  let built: Promise<AgentBundle> | undefined;
  const bundle = (): Promise<AgentBundle> => {
    if (opts.dataDir === undefined) return Promise.reject(new FoundryError('NOT_FOUND', 'this hub serves no agent bundle (no data dir)'));
    built ??= ensureAgentBundle(packageRoot, join(opts.dataDir, 'agent-bundle'));
    built.catch(() => (built = undefined));
    return built;
  };
  app.get(`/agent/${BUNDLE_SHA_FILE}`, ENROLL_ERRORS, async (_req, reply) => {
    const b = await bundle();
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(b.shaFile));
  });
  // What a node must be to run the bundle (architecture, C library): install.sh reads it before the download.
  app.get(`/agent/${BUNDLE_PLATFORM_FILE}`, ENROLL_ERRORS, async (_req, reply) => {
    const b = await bundle();
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(b.platformFile));
  });
  app.get(`/agent/${BUNDLE_FILE}`, ENROLL_ERRORS, async (_req, reply) => {
    const b = await bundle();
    return reply.type('application/gzip').send(createReadStream(b.file));
  });
}
