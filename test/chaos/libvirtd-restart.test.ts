/**
 * libvirtd restarted under the agent's libvirt driver (real qemu:///system, KVM). There is one system
 * libvirtd on a host and a second privileged one would share its state dirs, so this restarts THE system
 * daemon: safe only because `npm run chaos` runs alone (never in `npm test`). While it is down the driver
 * reports the runtime unavailable and the guest keeps running (libvirtd does not own the qemu process);
 * the guest's qemu is then killed, as a crash would; after the restart the agent reconverges: it finds
 * its domain with the same uuid and metadata and starts it, recreating nothing.
 */
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { planActions } from '../../agent/plan.js';
import type { DesiredVm } from '../../agent/desired.js';
import { LibvirtDriver } from '../../agent/drivers/libvirt/libvirt-driver.js';
import { describeIf } from '../support/requires.js';
import { desiredVm, libvirtAvailable, LIBVIRT_HOW, makeSandbox, state, URI, virshTry, type Sandbox } from '../libvirt/helpers.js';
import { waitFor } from '../hub/support.js';
import { happened, tried } from './record.js';

const pidOf = (): number | undefined => {
  const out = spawnSync('pgrep', ['-x', 'libvirtd'], { encoding: 'utf8' }).stdout.trim();
  return out === '' ? undefined : Number(out.split('\n')[0]);
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeIf(libvirtAvailable && process.getuid?.() === 0 && pidOf() !== undefined, 'libvirt (a running system libvirtd)', LIBVIRT_HOW)('libvirtd restarted under the agent', () => {
  let sb: Sandbox;
  let driver: LibvirtDriver;
  let vm: DesiredVm;

  beforeAll(() => {
    sb = makeSandbox('chaos');
    driver = new LibvirtDriver({ uri: URI, diskDir: sb.dir, imageDir: sb.dir, shutdownTimeoutMs: 1500, pollMs: 100, defaultNetwork: null });
    vm = desiredVm(sb, 'desk');
  });
  afterAll(async () => {
    // Whatever happened, leave a running system libvirtd behind.
    if (pidOf() === undefined) spawnSync('libvirtd', ['-d']);
    await waitFor(() => virshTry(['version']).ok, 30_000, 'libvirtd back').catch(() => undefined);
    sb?.cleanup();
  });

  const converge = async (): Promise<string[]> => {
    const plan = planActions(state(sb, [vm]), await driver.list(`${sb.prefix}-node`));
    for (const a of plan.actions) await driver.apply(a);
    return plan.actions.map((a) => a.type);
  };

  it('reports the runtime down while libvirtd is gone, then reconverges without recreating the guest', async (ctx: TestContext) => {
    tried(ctx, 'libvirtd restarted', 'a KVM guest converged by the libvirt driver; the system libvirtd is SIGTERMed; while it is down the driver lists and probes, and the guest\'s qemu process is SIGKILLed (a crash); libvirtd is started again (`libvirtd -d`) and the agent converges');
    expect(await converge()).toEqual(['create']);
    const uuid = virshTry(['domuuid', vm.name]).out.trim();
    const qemuPid = Number(readFileSync(`/run/libvirt/qemu/${vm.name}.pid`, 'utf8').trim());
    const daemon = pidOf()!;

    process.kill(daemon, 'SIGTERM');
    await waitFor(() => !alive(daemon), 30_000, 'libvirtd stopped');
    const probe = await driver.probe();
    const listed = await driver.list(`${sb.prefix}-node`).then(() => 'listed', (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`);
    const guestSurvived = alive(qemuPid);
    process.kill(qemuPid, 'SIGKILL');
    happened(ctx, `libvirtd down: probe available=${probe.available} ("${probe.message.slice(0, 90)}"); list → ${listed.slice(0, 140)}; guest qemu still running: ${guestSurvived}`);
    expect(probe.available).toBe(false);
    // Soft: the reconciler treats any list failure as "runtime unavailable"; the driver's code should say so too.
    expect.soft(listed, 'the error code of a list while libvirtd is down').toMatch(/^RUNTIME_UNAVAILABLE: /);
    expect(guestSurvived).toBe(true);

    expect(spawnSync('libvirtd', ['-d']).status).toBe(0);
    await waitFor(() => virshTry(['version']).ok, 30_000, 'libvirtd back');
    await waitFor(() => !existsSync(`/proc/${qemuPid}`), 10_000, 'qemu reaped');
    const seen = await driver.list(`${sb.prefix}-node`);
    const actions = await converge();
    const again = await converge();
    happened(ctx, `libvirtd back: the guest listed as ${seen[0]?.state} with its metadata; converge ran [${actions.join(', ')}], then [${again.join(', ')}]; same domain uuid: ${virshTry(['domuuid', vm.name]).out.trim() === uuid}`);
    expect(seen.map((o) => [o.id, o.specHash, o.state])).toEqual([[vm.id, vm.specHash, 'stopped']]);
    expect(actions).toEqual(['start']);
    expect(again).toEqual(['noop']);
    expect(virshTry(['domstate', vm.name]).out.trim()).toBe('running');
    expect(virshTry(['domuuid', vm.name]).out.trim()).toBe(uuid);
  });
});
