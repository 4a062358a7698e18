/**
 * A push that moves a workspace away from its encrypted volumes is told so (hub/git/pre-receive.ts,
 * moveWarnings): the example infra repo in a real bare Git repo, then a revision that moves acme-alice
 * (ai-stack: encrypted named volumes, dataOnMove refuse by default) from gpu-01 to a second GPU node.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRevisionReport } from '../../hub/git/pre-receive.js';
import { git } from '../../common/git-run.js';

let dir: string;
let work: string;
let bare: string;
const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_NOSYSTEM: '1' };

async function commit(message: string): Promise<string> {
  await git(['-C', work, 'add', '-A'], 'git add');
  await git(['-C', work, 'commit', '-q', '-m', message], 'git commit', { env: { ...process.env, ...env } });
  await git(['-C', work, 'push', '-q', bare, 'HEAD:main'], 'git push');
  return (await git(['-C', work, 'rev-parse', 'HEAD'], 'git rev-parse')).trim();
}

const alice = (): string => join(work, 'workspaces/acme/alice.yaml');
const moveAlice = (from: string, to: string): void => writeFileSync(alice(), readFileSync(alice(), 'utf8').replace(`node: ${from}`, `node: ${to}`).replaceAll('GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a01', to === 'gpu-02' ? 'GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a21' : 'GPU-6f1c2a9e-3b7d-4c1e-9a52-0d8e4b7f1a01'));

describe('push-time warning for a workspace moved away from its encrypted volumes', () => {
  let first: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-move-'));
    work = join(dir, 'work');
    bare = join(dir, 'infra.git');
    await git(['init', '-q', '--bare', '-b', 'main', bare], 'git init');
    cpSync('fixtures/example-infra', work, { recursive: true });
    await git(['init', '-q', '-b', 'main', work], 'git init');
    // a second GPU node like gpu-01
    const node = readFileSync(join(work, 'nodes/gpu-01.yaml'), 'utf8').replaceAll('gpu-01', 'gpu-02').replace('10.0.1.11', '10.0.1.12').replace(/1a01/g, '1a21').replace(/2f02/g, '2f22');
    writeFileSync(join(work, 'nodes/gpu-02.yaml'), node);
    first = await commit('two GPU nodes');
    expect((await validateRevisionReport(bare, first)).issues).toEqual([]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('warns, naming the file, the field, both nodes and what to do; the push is not refused', async () => {
    moveAlice('gpu-01', 'gpu-02');
    const moved = await commit('move alice');
    const report = await validateRevisionReport(bare, moved, first);
    expect(report.issues).toEqual([]);
    expect(report.warnings).toEqual([
      expect.stringMatching(/^workspaces\/acme\/alice\.yaml:\d+:\d+: spec\.node: warning: workspace acme-alice moves from node gpu-01 to gpu-02, but its encrypted volumes stay on gpu-01 \(template ai-stack, dataOnMove: refuse\): it will not start on gpu-02; place it back on gpu-01, or set dataOnMove: drop/),
    ]);
    // without the previous revision (a new branch) nothing is compared
    expect((await validateRevisionReport(bare, moved)).warnings).toEqual([]);
    // moving back is fine again
    moveAlice('gpu-02', 'gpu-01');
    expect((await validateRevisionReport(bare, await commit('back'), moved)).warnings).toEqual([]);
  });

  it('says nothing when the template allows dropping the data or encrypts nothing', async () => {
    const tpl = join(work, 'templates/ai-stack.yaml');
    const original = readFileSync(tpl, 'utf8');
    for (const setting of ['dataOnMove: drop', 'encryption: none']) {
      writeFileSync(tpl, original.replace(/^spec:\n/m, `spec:\n  ${setting}\n`));
      const base = await commit(`template: ${setting}`);
      moveAlice('gpu-01', 'gpu-02');
      const moved = await commit('move alice');
      const report = await validateRevisionReport(bare, moved, base);
      expect([setting, report.issues, report.warnings]).toEqual([setting, [], []]);
      moveAlice('gpu-02', 'gpu-01');
      writeFileSync(tpl, original);
      await commit('reset');
    }
  });
});
