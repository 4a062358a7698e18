import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { withSecretFiles } from './cloud-init.js';

const file = { path: '/etc/vnc/passwd', permissions: '0400', content: Buffer.from('s3cret') };

describe('withSecretFiles', () => {
  it("appends write_files entries to the template's #cloud-config, keeping what it had", () => {
    const out = withSecretFiles('#cloud-config\nhostname: desk\nwrite_files:\n  - path: /etc/motd\n    content: hi\n', [file])!;
    expect(out.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(out)).toEqual({ hostname: 'desk', write_files: [{ path: '/etc/motd', content: 'hi' }, { path: '/etc/vnc/passwd', permissions: '0400', owner: 'root:root', encoding: 'b64', content: Buffer.from('s3cret').toString('base64') }] });
    expect(out).not.toContain('s3cret');
  });
  it('makes user data when the template has none; leaves it alone without secrets', () => {
    expect(parse(withSecretFiles(undefined, [file])!).write_files).toHaveLength(1);
    expect(withSecretFiles('#!/bin/sh\necho hi\n', [])).toBe('#!/bin/sh\necho hi\n');
  });
  it('refuses user data that is not #cloud-config', () => {
    expect(() => withSecretFiles('#!/bin/sh\necho hi\n', [file])).toThrow('secrets for a VM need #cloud-config user data');
    expect(() => withSecretFiles('#cloud-config\nwrite_files: nope\n', [file])).toThrow('write_files that is not a list');
  });
});
