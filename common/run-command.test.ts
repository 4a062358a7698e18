import { describe, expect, it } from 'vitest';
import { runCommand } from './run-command.js';

describe('runCommand', () => {
  it('collects stdout, stderr and the exit code, feeding stdin', async () => {
    const r = await runCommand('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
    expect([r.stdout, r.stderr, r.code, r.timedOut]).toEqual(['hello', 'oops\n', 3, false]);
  });

  it('ends at the time limit even when a grandchild still holds the pipes', async () => {
    const r = await runCommand('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    const grandchild = Number(r.stdout.trim());
    try {
      expect([r.code, r.timedOut]).toEqual([null, true]);
    } finally {
      if (grandchild > 0) process.kill(grandchild, 'SIGKILL');
    }
  }, 10_000);

  it('rejects when the command cannot start', async () => {
    await expect(runCommand('/nonexistent/foundry-no-such-command', [])).rejects.toThrow(/ENOENT/);
  });
});
