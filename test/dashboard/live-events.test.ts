/** LiveEvents over the fleet repository on both backends: which topics a change announces, and the GPU history it feeds. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlFleetRepo } from '../../hub/store/fleet-repo.js';
import { LiveEvents } from '../../hub/dashboard/live-events.js';
import { GpuHistory } from '../../hub/dashboard/gpu-history.js';

const sample = (at: number, util: number) => JSON.stringify({ node: 'gpu-01', at, gpus: [{ uuid: 'GPU-1', utilizationGpuPct: util, memoryUsedMiB: 10 }] });

describeBackends('live events', (backend) => {
  let db: TestSql;
  let live: LiveEvents;
  const history = new GpuHistory();
  let connected: string[] = [];
  beforeAll(async () => {
    db = await openTestSql(backend);
    live = new LiveEvents(new SqlFleetRepo(db.sql), history, () => connected);
  });
  afterAll(async () => db?.close());

  it('announces nothing on the first poll, then exactly the topics whose data changed', async () => {
    expect(await live.poll()).toEqual([]);
    expect(await live.poll()).toEqual([]);
    await db.sql.run("INSERT INTO audit_log (at, actor, action) VALUES ('x', 'kim', 'login')");
    await db.sql.run("INSERT INTO join_tokens (id, token_hash, profile, labels, max_uses, expires_at, created_by, created_at) VALUES ('t', 'h', 'p', '{}', 1, 'x', 'c', 'x')");
    expect((await live.poll()).sort()).toEqual(['audit', 'enrollment']);
    connected = ['gpu-01'];
    expect(await live.poll()).toEqual(['nodes']);
    expect(await live.poll()).toEqual([]);
  });

  it('feeds the GPU history from the latest telemetry when it changes', async () => {
    await db.sql.run('INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?)', ['gpu-01', 1_000, sample(1_000, 40)]);
    expect(await live.poll()).toEqual(['telemetry']);
    await db.sql.run('UPDATE telemetry_latest SET at = ?, payload = ? WHERE node = ?', [2_000, sample(2_000, 60), 'gpu-01']);
    expect(await live.poll()).toEqual(['telemetry']);
    expect(history.points('gpu-01', 'GPU-1').map((p) => [p.at, p.util])).toEqual([[1_000, 40], [2_000, 60]]);
  });
});
