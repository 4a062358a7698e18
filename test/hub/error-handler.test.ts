/** The hub's one error handler, as buildApp installs it: every route's refusals take the same shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support.js';

describe('the error handler of a built hub', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ repo: true });
  });
  afterAll(async () => hub.close());

  it('answers a body that is not JSON with 400 and a message that quotes nothing of it', async () => {
    const r = await hub.app.inject({ method: 'POST', url: '/api/v1/enroll', headers: { 'content-type': 'application/json' }, payload: '{"token":"fjt_secret-value' });
    expect({ status: r.statusCode, body: r.json() }).toEqual({ status: 400, body: { code: 'BAD_REQUEST', message: 'invalid request body: not json' } });
  });

  it('answers a route schema violation with 400 naming the field', async () => {
    const admin = await hub.store.createAdminToken('t');
    const r = await hub.app.inject({ method: 'GET', url: '/api/v1/audit?limit=9999', headers: { authorization: `Bearer ${admin}` } });
    expect({ status: r.statusCode, body: r.json() }).toEqual({ status: 400, body: { code: 'BAD_REQUEST', message: 'invalid querystring: querystring/limit must be <= 500' } });
  });

  it('answers enrollment\'s catalog errors as { code, message } (a hub without a data dir serves no bundle)', async () => {
    const r = await hub.app.inject({ method: 'GET', url: '/agent/foundry-agent.tgz.sha256' });
    expect({ status: r.statusCode, body: r.json() }).toEqual({ status: 404, body: { code: 'NOT_FOUND', message: 'this hub serves no agent bundle (no data dir)' } });
  });
});
