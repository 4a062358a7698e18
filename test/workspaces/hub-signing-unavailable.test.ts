/** A hub host without ssh-keygen: the hub still starts (unsigned, with a warning), unless asked to check signatures. */
import { it, expect, describe } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { startHub } from '../../hub/server.js';

describe('hub without ssh-keygen', () => {
  it('starts unsigned and says why; refuses to start when it must check signatures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-nokeygen-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'git'));
    const path = process.env.PATH;
    let logs = '';
    const sink = new Writable({ write: (c: Buffer, _e, cb) => ((logs += c.toString()), cb()) });
    process.env.PATH = bin; // git only: no ssh-keygen
    try {
      const hub = await startHub({ dataDir: join(dir, 'hub'), port: 0, repoPollMs: 0, logger: { level: 'warn', stream: sink } });
      try {
        expect(hub.signingKey).toBeUndefined();
        expect(logs).toContain('"event":"signing-key-unavailable"');
        expect((await hub.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      } finally {
        await hub.close();
      }
      await expect(startHub({ dataDir: join(dir, 'hub2'), port: 0, repoPollMs: 0, allowedSignersFile: join(dir, 'allowed'), logger: false })).rejects.toMatchObject({ message: expect.stringContaining("cannot generate the hub's signing key with ssh-keygen") });
    } finally {
      process.env.PATH = path;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
