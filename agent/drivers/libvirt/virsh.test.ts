import { describe, expect, it } from 'vitest';
import { Virsh } from './virsh.js';
import type { CommandRunner } from '../../../common/run-command.js';

// virsh's own words when libvirtd is not running (captured from virsh 9.0 on Debian 12).
const DOWN = "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n";

describe('Virsh errors', () => {
  it('reports libvirtd not answering as RUNTIME_UNAVAILABLE, a failed command as VM_ACTION', async () => {
    const down: CommandRunner = async () => ({ code: 1, stdout: '', stderr: DOWN, timedOut: false });
    await expect(new Virsh(down, 'qemu:///system').listNames()).rejects.toMatchObject({ code: 'RUNTIME_UNAVAILABLE', retry: 'transient' });
    const failed: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'error: operation failed: domain is already running\n', timedOut: false });
    await expect(new Virsh(failed, 'qemu:///system').must(['start', 'x'], 'vm.x')).rejects.toMatchObject({ code: 'VM_ACTION' });
  });
});
