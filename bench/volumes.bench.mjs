// What encryption at rest costs a container volume: sequential write, sequential read and small random
// I/O (4 KiB pread/pwrite at random offsets) on a gocryptfs volume (agent/volumes, mounted exactly as the
// agent mounts it) side by side with a plain folder on the same file system, in one run.
// `node bench/volumes.bench.mjs [--quick]`; needs gocryptfs, fuse3 and root (FUSE -allow_other).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const MiB = 1024 * 1024;

/** Writes `sizeMiB` in 1 MiB chunks and fsyncs; returns MiB/s. */
function seqWrite(file, sizeMiB) {
  const chunk = randomBytes(MiB);
  const t = process.hrtime.bigint();
  const fd = openSync(file, 'w');
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, chunk);
  fsyncSync(fd);
  closeSync(fd);
  return sizeMiB / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Reads the file in 1 MiB chunks; returns MiB/s (page cache warm for both sides). */
function seqRead(file, sizeMiB) {
  const buf = Buffer.alloc(MiB);
  const t = process.hrtime.bigint();
  const fd = openSync(file, 'r');
  while (readSync(fd, buf, 0, MiB, null) > 0);
  closeSync(fd);
  return sizeMiB / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** `ops` random 4 KiB operations (half writes, half reads) in the file; returns operations per second. */
function randomIo(file, sizeMiB, ops) {
  const block = 4096;
  const blocks = (sizeMiB * MiB) / block;
  const data = randomBytes(block);
  const buf = Buffer.alloc(block);
  const fd = openSync(file, 'r+');
  const t = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const pos = Math.floor(Math.random() * blocks) * block;
    if (i % 2 === 0) writeSync(fd, data, 0, block, pos);
    else readSync(fd, buf, 0, block, pos);
  }
  fsyncSync(fd);
  closeSync(fd);
  return ops / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Runs the benchmark; rows compare gocryptfs with the plain folder of the same run. */
export async function run({ quick = false } = {}) {
  const { EncryptedDirs } = await import('../dist/agent/volumes/encrypted-dirs.js');
  const { runCommand } = await import('../dist/common/run-command.js');
  const sizeMiB = quick ? 16 : 256;
  const ops = quick ? 400 : 4000;
  const runs = quick ? 1 : 5;
  const root = mkdtempSync(join(tmpdir(), 'foundry-bench-volumes-'));
  const dirs = new EncryptedDirs(runCommand, root);
  const plain = join(root, 'plain');
  mkdirSync(plain);
  const results = { enc: { w: [], r: [], io: [] }, plain: { w: [], r: [], io: [] } };
  try {
    const t = process.hrtime.bigint();
    const p = await dirs.ensureMounted('bench', randomBytes(32), 'bench');
    const mountMs = Number(process.hrtime.bigint() - t) / 1e6;
    for (let i = 0; i < runs; i++) {
      for (const [side, dir] of [['plain', plain], ['enc', p.data]]) {
        const file = join(dir, 'f');
        results[side].w.push(seqWrite(file, sizeMiB));
        results[side].r.push(seqRead(file, sizeMiB));
        results[side].io.push(randomIo(file, sizeMiB, ops));
        rmSync(file);
      }
    }
    const row = (figure, key, unit) => {
      const enc = median(results.enc[key]);
      const base = median(results.plain[key]);
      return { figure, median: enc, unit, runs, peer: 'plain folder, same disk', peerMedian: base, ratio: `${(enc / base).toFixed(2)}× of plain` };
    };
    return {
      title: 'encrypted volumes (gocryptfs)',
      rows: [
        row(`sequential write ${sizeMiB} MiB (1 MiB writes, fsync)`, 'w', 'MiB/s'),
        row(`sequential read ${sizeMiB} MiB (page cache warm)`, 'r', 'MiB/s'),
        row(`random 4 KiB I/O, ${ops} ops (half reads, half writes)`, 'io', 'ops/s'),
        { figure: 'first mount: init (scrypt) + mount', median: mountMs, unit: 'ms', runs: 1 },
      ],
      notes: ['gocryptfs encrypts in a FUSE daemon (AES-256-GCM, 4 KiB blocks); reads and writes cross the kernel twice, which is the cost shown'],
    };
  } finally {
    await dirs.destroy('bench', 'bench').catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  console.log(table([await run({ quick: process.argv.includes('--quick') })]));
}
