import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseProcNetDev, procNetDevReader } from './proc-net-dev.js';

const sample = (rx: number, tx: number): string => `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   28346     342    0    0    0     0          0         0    28346     342    0    0    0     0       0          0
  eth0: ${rx}   12 0 0 0 0 0 0 ${tx} 9 0 0 0 0 0 0
`;

describe('proc net dev', () => {
  it('parses interface counters', () => {
    expect(parseProcNetDev(sample(1000, 2000))).toEqual([{ iface: 'lo', rxBytes: 28346, txBytes: 28346 }, { iface: 'eth0', rxBytes: 1000, txBytes: 2000 }]);
  });
  it('gives rates from the previous read, null first and after a counter reset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdev-'));
    const file = join(dir, 'dev');
    let now = 10_000;
    const read = procNetDevReader(file, () => now);
    writeFileSync(file, sample(1000, 2000));
    expect((await read())[1]).toEqual({ iface: 'eth0', rx_bytes: 1000, tx_bytes: 2000, rx_sec: null, tx_sec: null });
    now += 2000;
    writeFileSync(file, sample(5000, 2100));
    expect((await read())[1]).toEqual({ iface: 'eth0', rx_bytes: 5000, tx_bytes: 2100, rx_sec: 2000, tx_sec: 50 });
    now += 1000;
    writeFileSync(file, sample(10, 2200));
    expect((await read())[1]).toMatchObject({ rx_sec: null, tx_sec: 100 });
  });
});
