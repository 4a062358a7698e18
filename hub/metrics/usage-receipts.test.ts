import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from '../store/hub-store.js';
import { UsageReceipts } from './usage-receipts.js';

describe('UsageReceipts (real SQLite store)', () => {
  let dir: string;
  let store: HubStore;
  let seq = 0;
  const put = (record: Record<string, unknown>, receivedAt: string): void => {
    store.db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)').run('gpu-01', ++seq, JSON.stringify(record), receivedAt);
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-receipts-'));
    store = new HubStore(join(dir, 'hub.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest receipt per workspace, reading only rows stored since the last call, and never a label that is not a resource name', async () => {
    const receipts = new UsageReceipts(store.usage);
    expect(await receipts.read()).toEqual([]);
    put({ kind: 'gpu-allocation', tenant: 'acme', workspace: 'acme-a' }, '2026-12-08T00:00:10.500Z');
    put({ kind: 'resource-allocation', tenant: 'acme', workspace: 'acme-a' }, '2026-12-08T00:00:20Z');
    put({ kind: 'gpu-allocation', tenant: 'globex', workspace: 'globex-b' }, '2026-12-08T00:00:05Z');
    put({ kind: 'gpu-allocation', tenant: 'Evil Tenant"}', workspace: 'x' }, '2026-12-08T00:00:30Z');
    put({ kind: 'gpu-allocation', workspace: 'no-tenant' }, '2026-12-08T00:00:30Z');
    const sec = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
    expect(await receipts.read()).toEqual([
      { tenant: 'acme', workspace: 'acme-a', receivedSec: sec('2026-12-08T00:00:20Z') },
      { tenant: 'globex', workspace: 'globex-b', receivedSec: sec('2026-12-08T00:00:05Z') },
    ]);
    // a late arrival received earlier than what is known does not move the time back
    put({ kind: 'gpu-allocation', tenant: 'acme', workspace: 'acme-a' }, '2026-12-08T00:00:15Z');
    put({ kind: 'gpu-allocation', tenant: 'globex', workspace: 'globex-b' }, '2026-12-08T00:01:00Z');
    expect(await receipts.read()).toEqual([
      { tenant: 'acme', workspace: 'acme-a', receivedSec: sec('2026-12-08T00:00:20Z') },
      { tenant: 'globex', workspace: 'globex-b', receivedSec: sec('2026-12-08T00:01:00Z') },
    ]);
  });
});
