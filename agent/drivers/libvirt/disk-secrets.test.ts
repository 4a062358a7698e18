import { describe, expect, it } from 'vitest';
import { passphraseOf, secretUuidFor, secretXml } from './disk-secrets.js';
import { buildDomainXml } from './domain-xml.js';
import { encryptedCreateArgs, parseImageInfo } from './vm-disks.js';
import { ramDirIn } from '../../volumes/key-file.js';

const REF = { workspace: 'acme-alice', kind: 'vm-disk', name: 'desk' } as const;

describe('disk secrets', () => {
  it('gives each key ref its own stable uuid', () => {
    const a = secretUuidFor(REF);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(secretUuidFor({ ...REF })).toBe(a);
    expect(secretUuidFor({ ...REF, name: 'other' })).not.toBe(a);
    expect(secretUuidFor({ ...REF, kind: 'volume' })).not.toBe(a);
  });

  it('defines the secret ephemeral and private, its usage the disk', () => {
    expect(secretXml('u-1', '/d/ws.a.qcow2', REF)).toBe(
      "<secret ephemeral='yes' private='yes'>\n  <uuid>u-1</uuid>\n  <description>foundry disk key acme-alice/vm-disk/desk</description>\n  <usage type='volume'>\n    <volume>/d/ws.a.qcow2</volume>\n  </usage>\n</secret>\n",
    );
    expect(passphraseOf(Buffer.from([0, 1, 2]))).toBe('AAEC');
  });

  it('puts the LUKS encryption with the secret into the disk source', () => {
    const xml = buildDomainXml({ name: 'v', domainType: 'kvm', vcpus: 1, memoryBytes: 1 << 20, diskPath: '/d/v.qcow2', diskSecretUuid: 'u-1', hostDevices: [], metadata: { id: 'x' } });
    expect(xml).toContain("      <source file='/d/v.qcow2'>\n        <encryption format='luks'>\n          <secret type='passphrase' uuid='u-1'/>\n        </encryption>\n      </source>\n");
    const plain = buildDomainXml({ name: 'v', domainType: 'kvm', vcpus: 1, memoryBytes: 1 << 20, diskPath: '/d/v.qcow2', hostDevices: [], metadata: { id: 'x' } });
    expect(plain).toContain("      <source file='/d/v.qcow2'/>\n");
    expect(plain).not.toContain('encryption');
  });

  it('hands qemu-img the key as a file object, never in argv', () => {
    expect(encryptedCreateArgs('/dev/shm/k/key')).toEqual(['create', '-q', '--object', 'secret,id=disk-key,file=/dev/shm/k/key', '-f', 'qcow2', '-o', 'encrypt.format=luks,encrypt.key-secret=disk-key']);
    expect(parseImageInfo('{"virtual-size": 67108864, "filename": "o.qcow2", "format": "qcow2", "encrypted": true}')).toEqual({ format: 'qcow2', encrypted: true });
    expect(parseImageInfo('{"format": "qcow2"}')).toEqual({ format: 'qcow2', encrypted: false });
  });

  it('writes key files only on a RAM file system', () => {
    expect(ramDirIn('tmpfs /dev/shm tmpfs rw 0 0\n/dev/sda1 /run ext4 rw 0 0\n')).toBe('/dev/shm');
    expect(ramDirIn('/dev/sda1 /dev/shm ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n')).toBe('/run');
    expect(ramDirIn('/dev/sda1 / ext4 rw 0 0\n')).toBeUndefined();
  });
});
