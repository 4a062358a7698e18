/**
 * A local test image with Node.js (the host's own binary and the shared libraries it links), busybox, the
 * ws library and the ingress test app (apps/ingress-app.mjs): no registry is reachable here, so the image
 * is a tarball of host files that `podman import` turns into localhost/foundry-node-app:1.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PrivatePodman } from './podman.js';

/** The image name. */
export const NODE_APP_IMAGE = 'localhost/foundry-node-app:1';
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');

/** Builds the image tarball once per Node.js binary (cached in the temp dir); returns its path. */
export function nodeAppImageTar(): string {
  const node = realpathSync(process.execPath);
  const tar = join(tmpdir(), `foundry-node-app-${Math.floor(statSync(node).mtimeMs)}-${Math.floor(statSync(join(HERE, 'apps', 'ingress-app.mjs')).mtimeMs)}.tar`);
  if (existsSync(tar)) return tar;
  const root = mkdtempSync(join(tmpdir(), 'fc-node-image-'));
  try {
    for (const d of ['bin', 'tmp', 'etc', 'app/node_modules', 'usr/bin']) mkdirSync(join(root, d), { recursive: true });
    cpSync('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'sleep', 'httpd', 'cat', 'ls']) symlinkSync('busybox', join(root, 'bin', applet));
    cpSync(node, join(root, 'usr', 'bin', 'node'));
    // the shared libraries node links (ldd), at their own paths
    const ldd = spawnSync('ldd', [node], { encoding: 'utf8' });
    for (const m of ldd.stdout.matchAll(/(\/[^\s]+)\s+\(0x/g)) {
      const lib = m[1]!;
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      cpSync(realpathSync(lib), join(root, lib));
    }
    cpSync(realpathSync(join(REPO_ROOT, 'node_modules', 'ws')), join(root, 'app', 'node_modules', 'ws'), { recursive: true });
    cpSync(join(HERE, 'apps', 'ingress-app.mjs'), join(root, 'app', 'ingress-app.mjs'));
    const r = spawnSync('tar', ['-C', root, '-cf', `${tar}.part`, '.'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
    spawnSync('mv', [`${tar}.part`, tar]);
    return tar;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Imports the image into a private Podman. */
export function importNodeAppImage(pm: PrivatePodman): void {
  pm.podman(['import', '--change', 'CMD ["/usr/bin/node", "/app/ingress-app.mjs"]', '--change', 'ENV PATH=/bin:/usr/bin', nodeAppImageTar(), NODE_APP_IMAGE], { timeoutMs: 120_000 });
}
