import { describe, it, expect } from 'vitest';
import { decodeFrame, decodeUsageRecord, encodeFrame, BadFrameCounter, MAX_FRAME_BYTES, AGENT_TO_HUB, HUB_TO_AGENT } from './codec.js';

const usage = (over: Record<string, unknown> = {}): string =>
  JSON.stringify({ v: 1, type: 'usage', id: 'm1', seq: 3, ts: '2026-11-27T10:00:00.000Z', body: { node: 'gpu-01', record: { workspace: 'w' } }, ...over });

describe('decodeFrame', () => {
  it('accepts a valid usage frame', () => {
    const d = decodeFrame(usage(), AGENT_TO_HUB);
    expect(d).toEqual({ ok: true, msg: JSON.parse(usage()) });
  });

  it('round-trips what encodeFrame builds', () => {
    const raw = encodeFrame('ack', { seqs: [1, 2] });
    const d = decodeFrame(raw, ['ack']);
    expect(d.ok && d.msg.body).toEqual({ seqs: [1, 2] });
  });

  it('names the type and field of a schema violation', () => {
    const d = decodeFrame(usage({ body: { node: 'gpu-01', record: 'x' } }), AGENT_TO_HUB);
    expect(d).toEqual({ ok: false, error: { code: 'PROTOCOL_FRAME', message: 'usage message: /body/record must be object', field: '/body/record', refType: 'usage', refId: 'm1' } });
  });

  it('names an unknown property', () => {
    const d = decodeFrame(usage({ extra: 1 }), AGENT_TO_HUB);
    expect(d.ok ? '' : d.error.message).toBe('usage message: /extra is not allowed');
  });

  it('requires seq on usage', () => {
    const d = decodeFrame(usage({ seq: undefined }), AGENT_TO_HUB);
    expect(d.ok ? '' : d.error.message).toBe("usage message: (root) must have required property 'seq'");
  });

  it('decodes console-open and names a bad tunnel id or workspace', () => {
    const ok = decodeFrame(encodeFrame('console-open', { tunnel: 'Abcdefghijklmnop_-12', workspace: 'acme-desk', protocol: 'vnc' }), HUB_TO_AGENT);
    expect(ok.ok && ok.msg.type === 'console-open' && ok.msg.body).toEqual({ tunnel: 'Abcdefghijklmnop_-12', workspace: 'acme-desk', protocol: 'vnc' });
    const short = decodeFrame(encodeFrame('console-open', { tunnel: 'x', workspace: 'acme-desk', protocol: 'vnc' }), HUB_TO_AGENT);
    expect(short.ok ? undefined : short.error).toMatchObject({ field: '/body/tunnel', refType: 'console-open' });
    const ws = decodeFrame(encodeFrame('console-open', { tunnel: 'Abcdefghijklmnop', workspace: '../etc', protocol: 'vnc' }), HUB_TO_AGENT);
    expect(ws.ok ? undefined : ws.error.message).toBe('console-open message: /body/workspace must match pattern "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"');
    // an agent never sends it
    expect(decodeFrame(encodeFrame('console-open', { tunnel: 'Abcdefghijklmnop', workspace: 'w', protocol: 'vnc' }), AGENT_TO_HUB)).toMatchObject({ ok: false, error: { field: '/type' } });
  });

  it('refuses a type not accepted on this side', () => {
    const d = decodeFrame(encodeFrame('ack', { seqs: [] }), AGENT_TO_HUB);
    expect(d.ok ? undefined : d.error.field).toBe('/type');
  });

  it('refuses another version, non-json, non-objects and oversized frames', () => {
    expect(decodeFrame(usage({ v: 2 }), AGENT_TO_HUB)).toMatchObject({ ok: false, error: { field: '/v' } });
    expect(decodeFrame('{nope', AGENT_TO_HUB)).toMatchObject({ ok: false, error: { message: 'frame is not valid json' } });
    expect(decodeFrame('[1]', AGENT_TO_HUB)).toMatchObject({ ok: false, error: { message: 'frame is not a json object' } });
    expect(decodeFrame('null', AGENT_TO_HUB)).toMatchObject({ ok: false });
    expect(decodeFrame(Buffer.alloc(MAX_FRAME_BYTES + 1, 32), AGENT_TO_HUB)).toMatchObject({ ok: false, error: { message: `frame of ${MAX_FRAME_BYTES + 1} bytes exceeds the limit of ${MAX_FRAME_BYTES} bytes` } });
  });
});

describe('decodeFrame: telemetry GPU health', () => {
  const telemetry = (health?: unknown): string => JSON.stringify({
    v: 1, type: 'telemetry', id: 't1', ts: '2026-12-08T00:00:00.000Z',
    body: { node: 'gpu-01', at: 1, gpus: [{ uuid: 'GPU-1', utilizationGpuPct: 1, memoryUsedMiB: 1, memoryTotalMiB: 2, ...(health === undefined ? {} : { health }) }], host: { cpuPct: null, memUsedBytes: null, memTotalBytes: null } },
  });

  it('accepts health with a state and problem codes, including codes this hub does not know', () => {
    const d = decodeFrame(telemetry({ state: 'unhealthy', problems: ['ecc_uncorrected', 'some_future_code'] }), AGENT_TO_HUB);
    expect(d.ok && d.msg.type === 'telemetry' && d.msg.body.gpus[0]?.health).toEqual({ state: 'unhealthy', problems: ['ecc_uncorrected', 'some_future_code'] });
  });

  it('accepts a GPU without health (older agents)', () => {
    const d = decodeFrame(telemetry(), AGENT_TO_HUB);
    expect(d.ok && d.msg.type === 'telemetry' && d.msg.body.gpus[0]?.health).toBeUndefined();
  });

  it.each([
    [{ state: 'broken', problems: [] }, '/body/gpus/0/health/state', 'must be equal to one of the allowed values'],
    [{ state: 'healthy' }, '/body/gpus/0/health', "must have required property 'problems'"],
    [{ state: 'degraded', problems: ['Free text, with spaces'] }, '/body/gpus/0/health/problems/0', 'must match pattern "^[a-z][a-z0-9_]{0,39}$"'],
    [{ state: 'degraded', problems: Array(33).fill('x') }, '/body/gpus/0/health/problems', 'must NOT have more than 32 items'],
    [{ state: 'healthy', problems: [], note: 'x' }, '/body/gpus/0/health/note', 'is not allowed'],
  ])('never throws on bad health %j and names the field', (health, field, why) => {
    expect(decodeFrame(telemetry(health), AGENT_TO_HUB)).toEqual({
      ok: false, error: { code: 'PROTOCOL_FRAME', message: `telemetry message: ${field} ${why}`, field, refType: 'telemetry', refId: 't1' },
    });
  });
});

describe('BadFrameCounter', () => {
  it('trips at the limit within the window and forgets old frames', () => {
    let t = 0;
    const c = new BadFrameCounter(3, 1000, () => t);
    expect([c.record(), c.record()]).toEqual([false, false]);
    t = 1500;
    expect(c.record()).toBe(false);
    expect(c.record()).toBe(false);
    expect(c.record()).toBe(true);
  });
});

describe('decodeUsageRecord', () => {
  const rec = { kind: 'resource-allocation', version: 1, key: 'n/w/resources/0', node: 'gpu-01', workspace: 'w', tenant: 'acme', milliVcpus: 500, memoryBytes: 1, storageBytes: 0, from: 0, to: 10_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:00:10.000Z', seconds: 10 };

  it('accepts a record of a known kind', () => {
    expect(decodeUsageRecord(rec)).toEqual({ ok: true, record: rec });
  });

  it('names the field of a bad record, under /body/record', () => {
    expect(decodeUsageRecord({ ...rec, storageBytes: -1 })).toMatchObject({ ok: false, error: { code: 'PROTOCOL_FRAME', field: '/body/record/storageBytes', refType: 'usage' } });
    expect(decodeUsageRecord({ ...rec, extra: 1 })).toMatchObject({ ok: false, error: { field: '/body/record/extra', message: 'usage record (resource-allocation): /body/record/extra is not allowed' } });
    expect(decodeUsageRecord({ ...rec, kind: 'toString' })).toMatchObject({ ok: false, error: { field: '/body/record/kind' } });
    expect(decodeUsageRecord({ workspace: 'w' })).toMatchObject({ ok: false, error: { field: '/body/record/kind' } });
    expect(decodeUsageRecord(null)).toMatchObject({ ok: false, error: { field: '/body/record/kind' } });
  });
});
