import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestSync, sendCommand, startPolling, startSyncServer, syncSocketPath, watchLocalRepo, watchPaths } from './triggers.js';

describe('triggers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-trig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sync socket: runs the handler per request, replies with its result, refuses a second agent, cleans up a stale socket', async () => {
    const sock = syncSocketPath(join(dir, 'state'));
    let calls = 0;
    const server = await startSyncServer(sock, async () => ({ converged: ++calls > 0, observedRevision: 'abc', lastAppliedRevision: 'abc', message: 'applied revision abc' }));
    expect(await requestSync(join(dir, 'state'))).toEqual({ converged: true, observedRevision: 'abc', lastAppliedRevision: 'abc', message: 'applied revision abc' });
    expect(calls).toBe(1);
    expect(await sendCommand(sock, 'bogus', 5_000)).toBe('{"error":"unknown command bogus"}');
    await expect(startSyncServer(sock, async () => ({ converged: true, observedRevision: undefined, lastAppliedRevision: undefined, message: '' }))).rejects.toThrow(/another agent is already running/);
    await server.stop();
    await expect(requestSync(join(dir, 'state'))).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE', message: expect.stringMatching(/^no agent is running with this state dir/) });
    // A socket file left by a killed agent does not block the next one.
    writeFileSync(sock, '');
    const again = await startSyncServer(sock, async () => ({ converged: false, observedRevision: undefined, lastAppliedRevision: undefined, message: '' }));
    expect((await requestSync(join(dir, 'state'))).converged).toBe(false);
    await again.stop();
  });

  it('polls again and again, reading the interval each time, and stops for good', async () => {
    let fired = 0;
    const intervals: number[] = [];
    const poll = startPolling(() => (intervals.push(20), 20), async () => void fired++, () => 1);
    for (let i = 0; i < 200 && fired < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await poll.stop();
    const n = fired;
    await new Promise((r) => setTimeout(r, 100));
    expect(n).toBeGreaterThanOrEqual(3);
    expect(fired).toBe(n);
    expect(intervals.length).toBeGreaterThanOrEqual(n);
  });

  it('watches the refs of a git repo, and the YAML files of a plain folder', async () => {
    mkdirSync(join(dir, 'git', '.git', 'refs', 'heads'), { recursive: true });
    expect(watchPaths(join(dir, 'git'))).toEqual({ paths: [join(dir, 'git', '.git', 'HEAD'), join(dir, 'git', '.git', 'refs', 'heads'), join(dir, 'git', '.git', 'packed-refs')], git: true });
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    let fired = 0;
    const w = await watchLocalRepo(plain, () => fired++, 20);
    writeFileSync(join(plain, 'notes.txt'), 'x');
    await new Promise((r) => setTimeout(r, 300));
    expect(fired).toBe(0);
    writeFileSync(join(plain, 'ws.yaml'), 'a: 1\n');
    for (let i = 0; i < 50 && fired === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(fired).toBe(1);
    await w.stop();
  });
});
