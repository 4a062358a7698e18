import { describe, expect, it } from 'vitest';
import { isRemoteUrl, redact, splitCredentials } from './credentials.js';

describe('splitCredentials', () => {
  it('moves user:token out of an https URL into a Basic header', () => {
    const s = splitCredentials('https://oauth2:glpat-abc123@git.example.eu/infra.git');
    expect(s.url).toBe('https://git.example.eu/infra.git');
    expect(s.authorization).toBe(`Basic ${Buffer.from('oauth2:glpat-abc123').toString('base64')}`);
    expect(s.secrets).toContain('glpat-abc123');
  });
  it('keeps URLs without credentials and local paths as they are; an explicit header wins', () => {
    expect(splitCredentials('/srv/infra').url).toBe('/srv/infra');
    expect(splitCredentials('https://git.example.eu/x.git', 'Bearer tok-123')).toEqual({ url: 'https://git.example.eu/x.git', authorization: 'Bearer tok-123', secrets: ['Bearer tok-123', 'tok-123'] });
  });
});

describe('redact', () => {
  it('removes user info from any URL, known secrets and authorization headers', () => {
    expect(redact('fatal: unable to access https://bob:pw@h/x.git/ and ssh://git@h/y', [])).toBe('fatal: unable to access https://***@h/x.git/ and ssh://***@h/y');
    expect(redact('token tok-123 leaked', ['tok-123'])).toBe('token *** leaked');
    expect(redact('Authorization: Bearer abc.def', [])).toBe('Authorization: ***');
  });
});

describe('isRemoteUrl', () => {
  it('tells URLs and scp-like addresses from local paths', () => {
    expect(['https://h/x', 'file:///x', 'ssh://h/x', 'git@gitlab.example.eu:infra/repo.git'].map(isRemoteUrl)).toEqual([true, true, true, true]);
    expect(['/srv/infra', './infra', 'infra'].map(isRemoteUrl)).toEqual([false, false, false]);
  });
});
