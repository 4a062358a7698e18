import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { FoundryError, type ErrorCode } from '../common/errors.js';
import { hubErrorHandler, httpStatusOf } from './error-handler.js';

/** One code of each class the API answers, with its status. */
const CASES: Array<[ErrorCode, number]> = [
  ['BAD_REQUEST', 400],
  ['AUTH_REQUIRED', 401],
  ['AUTH_FORBIDDEN', 403],
  ['JOIN_TOKEN', 403],
  ['NOT_FOUND', 404],
  ['CONFLICT', 409],
  ['NODE_NAME_TAKEN', 409],
  ['GIT_SIGNATURE', 409],
  ['BILLING', 422],
  ['INFRA_FILE', 422],
  ['GIT_FETCH', 502],
  ['PLACEMENT_CONFLICT', 503],
  ['STORE', 503],
  // codes no request should meet: the hub's fault
  ['INFRA_SCHEMA', 500],
  ['INTERNAL', 500],
];

describe('the hub error handler', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ logger: false });
    app.setErrorHandler(hubErrorHandler);
    app.get<{ Params: { code: ErrorCode } }>('/fail/:code', async (req) => {
      throw new FoundryError(req.params.code, `failed with ${req.params.code.toLowerCase()}`, { resource: 'thing-1', details: { n: 1 } });
    });
    app.get<{ Params: { code: ErrorCode } }>('/enroll-like/:code', { config: { hubSideStatus: 503, errorDetails: false } }, async (req) => {
      throw new FoundryError(req.params.code, 'refused', { resource: 'tok-1' });
    });
    app.post('/typed', { bodyLimit: 64, schema: { body: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'string' } } } } }, async () => ({ ok: true }));
    app.get('/crash', async () => {
      throw new Error('connect to postgres://hub:hunter2@db failed');
    });
    await app.ready();
  });
  afterAll(async () => app.close());

  it.each(CASES)('answers a FoundryError %s with %i and { code, message, resource, details }', async (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
    const r = await app.inject({ method: 'GET', url: `/fail/${code}` });
    expect(r.statusCode).toBe(status);
    expect(r.json()).toEqual({ code, message: `failed with ${code.toLowerCase()}`, resource: 'thing-1', details: { n: 1 } });
  });

  it('on a route with hubSideStatus, answers the hub-side codes with it and the request codes with their own, as { code, message }', async () => {
    const git = await app.inject({ method: 'GET', url: '/enroll-like/GIT_FETCH' });
    expect({ status: git.statusCode, body: git.json() }).toEqual({ status: 503, body: { code: 'GIT_FETCH', message: 'refused' } });
    const token = await app.inject({ method: 'GET', url: '/enroll-like/JOIN_TOKEN' });
    expect({ status: token.statusCode, body: token.json() }).toEqual({ status: 403, body: { code: 'JOIN_TOKEN', message: 'refused' } });
    const taken = await app.inject({ method: 'GET', url: '/enroll-like/NODE_NAME_TAKEN' });
    expect(taken.statusCode).toBe(409);
  });

  it('answers a schema validation error with 400 naming the field, never its value', async () => {
    const wrongType = await app.inject({ method: 'POST', url: '/typed', payload: { value: { pin: 31337 } } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json()).toEqual({ code: 'BAD_REQUEST', message: 'invalid body: body/value must be string' });
    expect(wrongType.body).not.toContain('31337');
    const missing = await app.inject({ method: 'POST', url: '/typed', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'BAD_REQUEST' });
    expect(missing.json<{ message: string }>().message).toContain("must have required property 'value'");
  });

  it('answers a body that is not JSON or too large with a fixed message that quotes nothing of it', async () => {
    const broken = await app.inject({ method: 'POST', url: '/typed', headers: { 'content-type': 'application/json' }, payload: '{"value":"hunter2' });
    expect({ status: broken.statusCode, body: broken.json() }).toEqual({ status: 400, body: { code: 'BAD_REQUEST', message: 'invalid request body: not json' } });
    const big = await app.inject({ method: 'POST', url: '/typed', payload: { value: 'x'.repeat(100) } });
    expect({ status: big.statusCode, body: big.json() }).toEqual({ status: 413, body: { code: 'BAD_REQUEST', message: 'the body is too large' } });
    const form = await app.inject({ method: 'POST', url: '/typed', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect({ status: form.statusCode, body: form.json() }).toEqual({ status: 415, body: { code: 'BAD_REQUEST', message: 'unsupported content type' } });
  });

  it('answers any other error with 500 and says nothing of its cause', async () => {
    const r = await app.inject({ method: 'GET', url: '/crash' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(r.body).not.toContain('hunter2');
  });
});
