/** `foundry validate --watch`: re-validates a local infra repo whenever a file changes (debounced). */
import { watch } from 'chokidar';
import { basename } from 'node:path';
import type { InfraRepo } from '../common/infra/model.js';
import { errorMessage } from '../common/errors.js';
import { loadTarget, type TargetOptions } from './load-target.js';

/** A running watch; close() stops it. */
export interface InfraWatch {
  close(): Promise<void>;
  /** Resolves when the watcher is ready (first validation done). */
  ready: Promise<void>;
}

/** Validates `dir` now and after every change (debounced by `debounceMs`), calling `onResult` each time. Load failures are reported, never thrown. */
export function watchInfra(dir: string, opts: TargetOptions, onResult: (repo: InfraRepo) => void, debounceMs = 200, onError: (message: string) => void = (m) => process.stderr.write(`foundry: ${m}\n`)): InfraWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  const run = () => {
    // Serial: a change during a run schedules one more run after it.
    running = running.then(async () => {
      try {
        onResult(await loadTarget(dir, opts));
      } catch (err) {
        onError(errorMessage(err));
      }
    });
    return running;
  };
  const watcher = watch(dir, {
    ignoreInitial: true,
    ignored: (path: string) => basename(path).startsWith('.') && path !== dir,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  watcher.on('all', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void run(), debounceMs);
  });
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve())).then(run);
  return {
    ready,
    async close() {
      if (timer !== undefined) clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
