/**
 * Network counters from /proc/net/dev, read asynchronously in one file read. systeminformation's
 * networkStats('*') probes every interface with extra commands; with the many veth interfaces of a
 * container host it took 16 s and blocked the event loop for seconds, so the agent reads the counters itself.
 */
import { readFile } from 'node:fs/promises';

/** One interface's counters, in the shape HostSource.networkStats returns. */
export interface NetDevStat {
  iface: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_sec: number | null;
  tx_sec: number | null;
}

/** Parses /proc/net/dev: "iface: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes ...". */
export function parseProcNetDev(text: string): Array<{ iface: string; rxBytes: number; txBytes: number }> {
  return text
    .split('\n')
    .slice(2)
    .flatMap((line) => {
      const colon = line.indexOf(':');
      if (colon < 0) return [];
      const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
      const [rx, tx] = [fields[0], fields[8]];
      if (rx === undefined || tx === undefined || !Number.isFinite(rx) || !Number.isFinite(tx)) return [];
      return [{ iface: line.slice(0, colon).trim(), rxBytes: rx, txBytes: tx }];
    });
}

/** A reader that remembers the previous sample to give per-second rates (null on the first read or after a counter reset). */
export function procNetDevReader(path = '/proc/net/dev', clock: () => number = Date.now): () => Promise<NetDevStat[]> {
  let previous = new Map<string, { at: number; rx: number; tx: number }>();
  return async () => {
    const at = clock();
    const rows = parseProcNetDev(await readFile(path, 'utf8'));
    const next = new Map<string, { at: number; rx: number; tx: number }>();
    const out = rows.map((r) => {
      next.set(r.iface, { at, rx: r.rxBytes, tx: r.txBytes });
      const p = previous.get(r.iface);
      const secs = p === undefined ? 0 : (at - p.at) / 1000;
      const rate = (now: number, before: number | undefined): number | null => (p === undefined || secs <= 0 || before === undefined || now < before ? null : (now - before) / secs);
      return { iface: r.iface, rx_bytes: r.rxBytes, tx_bytes: r.txBytes, rx_sec: rate(r.rxBytes, p?.rx), tx_sec: rate(r.txBytes, p?.tx) };
    });
    previous = next;
    return out;
  };
}
