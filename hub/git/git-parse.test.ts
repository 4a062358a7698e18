import { describe, it, expect } from 'vitest';
import { parseRefUpdates } from './pre-receive.js';
import { parseCgiHead } from './http-backend.js';

describe('parseRefUpdates', () => {
  it('reads git pre-receive stdin', () => {
    const zero = '0'.repeat(40);
    expect(parseRefUpdates(`${zero} ${'a'.repeat(40)} refs/heads/main\n${'b'.repeat(40)} ${zero} refs/heads/old\n\n`)).toEqual([
      { oldRev: zero, newRev: 'a'.repeat(40), ref: 'refs/heads/main' },
      { oldRev: 'b'.repeat(40), newRev: zero, ref: 'refs/heads/old' },
    ]);
  });
});

describe('parseCgiHead', () => {
  it('takes the status from the Status header and keeps the others', () => {
    expect(parseCgiHead('Status: 403 Forbidden\r\nContent-Type: text/plain\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT')).toEqual({ status: 403, headers: { 'Content-Type': 'text/plain', Expires: 'Fri, 01 Jan 1980 00:00:00 GMT' } });
    expect(parseCgiHead('Content-Type: application/x-git-upload-pack-advertisement')).toEqual({ status: 200, headers: { 'Content-Type': 'application/x-git-upload-pack-advertisement' } });
  });
});
