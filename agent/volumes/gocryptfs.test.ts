import { describe, expect, it } from 'vitest';
import { explainFailure, initArgs, isGocryptfsMount, isWrongKey, mountArgs, parseMounts, passwordInput, unmountArgs } from './gocryptfs.js';

// Captured from a host with a gocryptfs volume mounted (a path with a space to check the \040 escape).
const MOUNTS = [
  'overlay / overlay rw,relatime,lowerdir=/a,upperdir=/b,workdir=/c 0 0',
  '/var/lib/foundry/volumes/cipher/fc-ws-w1-data /var/lib/foundry/volumes/mnt/fc-ws-w1-data fuse.gocryptfs rw,nosuid,nodev,relatime,user_id=0,group_id=0,default_permissions,allow_other,max_read=131072 0 0',
  '/srv/c\\040d /srv/m\\040n fuse.gocryptfs rw 0 0',
  '/dev/sda1 /var/lib/foundry/volumes/mnt/plain ext4 rw 0 0',
  '',
].join('\n');

describe('gocryptfs argv', () => {
  it('never puts the key in argv; -q keeps the master key off stdout', () => {
    expect(initArgs('/c')).toEqual(['-init', '-q', '--', '/c']);
    expect(mountArgs('/c', '/m')).toEqual(['-q', '-allow_other', '-noprealloc', '--', '/c', '/m']);
    expect(unmountArgs('/m')).toEqual(['-u', '/m']);
    expect(unmountArgs('/m', true)).toEqual(['-u', '-z', '/m']);
    expect(passwordInput(Buffer.alloc(32, 1))).toBe(`${Buffer.alloc(32, 1).toString('base64')}\n`);
  });
});

describe('gocryptfs parsers', () => {
  it('finds live gocryptfs mounts only', () => {
    const mounts = parseMounts(MOUNTS);
    expect(mounts).toHaveLength(4);
    expect(isGocryptfsMount(mounts, '/var/lib/foundry/volumes/mnt/fc-ws-w1-data')).toBe(true);
    expect(isGocryptfsMount(mounts, '/srv/m n')).toBe(true);
    expect(isGocryptfsMount(mounts, '/var/lib/foundry/volumes/mnt/plain')).toBe(false);
    expect(isGocryptfsMount(mounts, '/var/lib/foundry/volumes/mnt/other')).toBe(false);
  });

  it('explains failures by exit code, without the syslog noise', () => {
    expect(explainFailure(12, 'failed to unlock master key: cipher: message authentication failed\nPassword incorrect.\n')).toBe('wrong key: the key does not unlock this volume: failed to unlock master key: cipher: message authentication failed; Password incorrect.');
    expect(explainFailure(10, 'SwitchToSyslog: Unix syslog delivery error\nfuse: mountpoint is not empty\n')).toBe('the mount point is not empty: fuse: mountpoint is not empty');
    expect(explainFailure(99, '')).toBe('exit 99');
    expect(explainFailure(null, '')).toBe('killed (timed out)');
    expect(isWrongKey(12)).toBe(true);
    expect(isWrongKey(10)).toBe(false);
  });
});
