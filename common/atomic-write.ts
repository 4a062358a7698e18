/**
 * The one way files that readers poll are written: to a temp file beside the target (same file system),
 * flushed to disk, then renamed over it, so a reader or a crash sees the old file or the new one, never
 * half of one. The temp file is removed when the write fails.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `data` to `file` atomically with `mode` (default 0644; 0600 for anything private), creating the folder. */
export async function writeFileAtomic(file: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    const fh = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
