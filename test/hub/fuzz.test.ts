import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { HubLink } from '../../agent/link/hub-link.js';
import { MAX_FRAME_BYTES } from '../../common/protocol/codec.js';
import { startTestHub, rawClient, waitFor, tempDir, type TestHub } from './support.js';

let hub: TestHub;
beforeAll(async () => {
  // A high bad-frame limit so one attacker connection takes thousands of frames before it is cut.
  hub = await startTestHub({ badFrameLimit: 1_000_000 });
});
afterAll(async () => hub.close());

const validUsage = { v: 1, type: 'usage', id: 'x', seq: 1, ts: '2026-11-27T10:00:00.000Z', body: { node: 'attacker', record: { a: 1 } } };

/** Malformed frames: random JSON, random mutations of a valid frame, wrong types, broken text. */
const malformed = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.record({ key: fc.constantFrom('v', 'type', 'id', 'seq', 'ts', 'body'), value: fc.jsonValue() }).map(({ key, value }) => JSON.stringify({ ...validUsage, [key]: value })),
  fc.record({ key: fc.constantFrom('node', 'record', 'extra'), value: fc.jsonValue() }).map(({ key, value }) => JSON.stringify({ ...validUsage, body: { ...validUsage.body, [key]: value } })),
  fc.constantFrom('{', '{"v":1', '\u0000\u0001', '{"v":1,"type":"hello"}', '{"v":1,"type":"ack","id":"a","ts":"x","body":{"seqs":[1]}}'),
);

describe('fuzz: malformed and oversized frames', () => {
  it('keeps serving another agent while one sends thousands of bad frames', async () => {
    const attackerCred = (await hub.store.issueNodeCredential('attacker'));
    const goodCred = (await hub.store.issueNodeCredential('good'));
    const stateDir = tempDir('foundry-link-');
    const good = new HubLink({ hubUrl: hub.url, node: 'good', credential: goodCred, stateDir }).start();
    await waitFor(() => good.connected, 5000, 'good agent');
    const attacker = await rawClient(hub.url, attackerCred);

    const frames = fc.sample(malformed, { numRuns: 3000, seed: 42 });
    const oversized = JSON.stringify({ ...validUsage, body: { node: 'attacker', record: { pad: 'x'.repeat(MAX_FRAME_BYTES) } } });
    let produced = 0;
    for (let i = 0; i < frames.length; i++) {
      attacker.send(frames[i]);
      if (i % 300 === 0) attacker.send(oversized);
      if (i % 30 === 0) {
        good.enqueueUsage({ n: ++produced });
        await new Promise((r) => setImmediate(r));
      }
    }
    await waitFor(() => good.pending() === 0, 20_000, 'good agent acked');
    expect((await hub.store.usageRecords('good')).map((r) => r.payload)).toEqual(Array.from({ length: produced }, (_, i) => ({ n: i + 1 })));
    // Every frame gets exactly one answer: an error, or (for the few mutations that stay valid) an ack.
    const sent = frames.length + Math.ceil(frames.length / 300);
    const answers = (): number => attacker.frames.reduce((n, f) => n + (f.type === 'ack' ? (f.body as { seqs: number[] }).seqs.length : 1), 0);
    await waitFor(() => answers() === sent, 20_000, 'an answer to every frame');
    expect(attacker.frames.filter((f) => f.type === 'error').length).toBeGreaterThan(sent * 0.9);
    expect(attacker.frames.some((f) => f.type === 'error' && (f.body as { message: string }).message.startsWith('frame of '))).toBe(true);
    expect(attacker.ws.readyState).toBe(attacker.ws.OPEN);

    // Past the WebSocket hard limit the connection is closed (1009) before the frame is buffered.
    attacker.send('x'.repeat(2 * 1024 * 1024));
    expect((await attacker.closed).code).toBe(1009);
    expect(good.connected).toBe(true);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    await good.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
});
