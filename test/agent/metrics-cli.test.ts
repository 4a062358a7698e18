/**
 * `foundry agent run --metrics-listen` as built: a bad address is refused before anything starts, naming the
 * flag; and an agent without the metrics endpoint never loads prom-client (the `lean` work keeps the agent's start-up
 * memory low): the built composition root and CLI load it only when the endpoint is on. Runs the built
 * modules in a child process, whose module cache tells what was loaded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIfBuilt } from '../support/requires.js';

const count = (modules: string[]): number => {
  const script = `${modules.map((m) => `await import(${JSON.stringify(`${PACKAGE_ROOT}/${m}`)});`).join('\n')}
const { createRequire } = await import('node:module');
const cache = createRequire(import.meta.url).cache;
process.stdout.write(String(Object.keys(cache).filter((k) => k.includes('/node_modules/prom-client/')).length));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8' }));
};

describeIfBuilt('dist/agent/node-agent.js', 'dist/cli/agent-run.js')('the agent\'s metrics switch', () => {
  it('refuses a bad --metrics-listen with exit 1 and a message naming the flag, before reading the config', () => {
    const r = spawnSync(process.execPath, [`${PACKAGE_ROOT}/bin/foundry.js`, 'agent', 'run', '--config', '/nonexistent/agent.yaml', '--metrics-listen', '10.0.0.1'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--metrics-listen: "10.0.0.1" has no port (expected HOST:PORT');
    expect(r.stderr).not.toContain('cannot read agent config');
  });

  it('prom-client stays unloaded while the metrics are off: the CLI and the node agent load none of it; the metrics module does', () => {
    expect(count(['dist/cli/foundry.js', 'dist/cli/agent-run.js', 'dist/agent/node-agent.js'])).toBe(0);
    expect(count(['dist/agent/node-agent.js', 'dist/agent/metrics/prom-metrics.js'])).toBeGreaterThan(0);
  });
});
