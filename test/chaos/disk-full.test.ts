/**
 * Disk full on the node's outbox directory: the agent's state dir is a 256 KiB tmpfs and the hub is
 * down, so the outbox fills the disk. The agent says so (usage-sink-failed, SQLITE_FULL), the outbox
 * keeps the oldest records (seqs 1..k, contiguous) and passes SQLite's integrity check; the newer
 * records wait in memory. Once the tmpfs grows and the hub is up, every record is delivered exactly once.
 */
import { afterAll, expect, it, type TestContext } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { tempDir, waitFor } from '../hub/support.js';
import { collectLines, freePort, killAll, seqRange, startHubProcess, stopProcess, track } from './procs.js';
import { prepareChaosHub } from './chaos-fleet.js';
import { happened, tried } from './record.js';
import { describeIf } from '../support/requires.js';

const SLOTS = 600;
const START = Date.parse('2026-11-30T22:00:00Z');
const root = process.getuid?.() === 0;
const dir = tempDir('foundry-diskfull-');
const mnt = join(dir, 'state');
let mounted = false;

afterAll(async () => {
  await killAll();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  rmSync(dir, { recursive: true, force: true });
});

/** The records the usage agent's fleet must produce for SLOTS slots (see usage-agent.mjs), as keys. */
function expectedKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const from = START + i * 10_000;
    if (i % 360 < 300) keys.push(`gpu-01/alice/GPU-0/${from}`, `gpu-01/alice/GPU-1/${from}`);
    if (i >= 500 && i < 1500) keys.push(`gpu-01/carol/GPU-2/${from}`);
    if (i % 50 !== 7) keys.push(`gpu-01/bob/GPU-3/${from}`);
  }
  return keys.sort();
}

function outbox(): { integrity: string; seqs: number[] } {
  const db = new Database(join(mnt, 'outbox.db'), { readonly: true, fileMustExist: true });
  try {
    return { integrity: db.pragma('integrity_check', { simple: true }) as string, seqs: db.prepare('SELECT seq FROM outbox ORDER BY seq').pluck().all() as number[] };
  } finally {
    db.close();
  }
}

describeIf(root && existsSync(join(PACKAGE_ROOT, 'dist', 'agent', 'link', 'hub-link.js')), 'root (tmpfs) and a build (dist/)', 'run npm run chaos as root; it builds first')('disk full on the outbox directory', () => {
  it('says so, keeps the oldest records uncorrupted, and delivers everything exactly once when space returns', async (ctx: TestContext) => {
    tried(ctx, 'disk full on the node\'s outbox directory', `the agent's state dir is a tmpfs mounted with size=256k, the hub is down; a real agent process (HubLink + UsageEmitter) emits ${SLOTS} slots of usage for 4 GPUs; when it is full, the tmpfs is remounted with 16 MiB and the hub started`);
    mkdirSync(mnt, { recursive: true });
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    mounted = true;
    const hubDir = join(dir, 'hub');
    // enrolled, and the workspaces placed in its repo, before the simulated clock starts: the hub admits the usage
    const cred = await prepareChaosHub(hubDir);
    const port = await freePort();
    const agent: ChildProcess = track(process.execPath, [join(PACKAGE_ROOT, 'test', 'chaos', 'usage-agent.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, HUB_URL: `http://127.0.0.1:${port}`, NODE: 'gpu-01', CRED: cred, STATE_DIR: mnt, START: new Date(START).toISOString(), SLOTS: String(SLOTS), TICK_MS: '5' },
    });
    const lines = collectLines(agent);
    const parsed = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => parsed().find((l) => l.msg === 'slots-done'), 120_000, 'all slots emitted');
    const failure = parsed().find((l) => l.event === 'usage-sink-failed');
    const done = parsed().find((l) => l.msg === 'slots-done') as { backlog: number; firstSeq: number; lastSeq: number };
    const full = outbox();
    const df = spawnSync('df', ['-k', '--output=used,size', mnt], { encoding: 'utf8' }).stdout.trim().split('\n')[1];
    happened(ctx, `agent said: ${String(failure?.reason)} (code ${String(failure?.code)}); ${done.lastSeq - done.firstSeq + 1} records in the outbox, ${done.backlog} waiting in memory; tmpfs used/size KiB ${df}; outbox integrity_check "${full.integrity}", seqs first..first+${full.seqs.length - 1} contiguous`);
    expect(failure?.reason).toMatch(/database or disk is full/);
    expect(failure?.code).toBe('SQLITE_FULL');
    expect(done.backlog).toBeGreaterThan(0);
    expect(full.integrity).toBe('ok');
    expect(full.seqs).toEqual(seqRange(done.firstSeq, done.lastSeq));

    expect(spawnSync('mount', ['-o', 'remount,size=16m', mnt]).status).toBe(0);
    const hub = await startHubProcess(hubDir, port);
    await waitFor(() => parsed().find((l) => l.msg === 'drained'), 120_000, 'outbox drained');
    const { firstSeq, lastSeq } = parsed().find((l) => l.msg === 'drained') as { firstSeq: number; lastSeq: number };
    await stopProcess(agent, 'SIGTERM');
    await stopProcess(hub, 'SIGTERM');
    const store = new HubStore(join(hubDir, 'hub.db'));
    const rows = (await store.usageRecords('gpu-01'));
    await store.close();
    const keys = rows.map((r) => (r.payload as { key: string }).key);
    const after = outbox();
    happened(ctx, `after space returned: ${rows.length} records stored, seqs first..first+${lastSeq - firstSeq} once each, every expected slot×GPU key present once; outbox empty, integrity "${after.integrity}"`);
    expect(rows.map((r) => r.seq)).toEqual(seqRange(firstSeq, lastSeq));
    expect([...keys].sort()).toEqual(expectedKeys());
    expect(after).toEqual({ integrity: 'ok', seqs: [] });
  }, 300_000);
});
