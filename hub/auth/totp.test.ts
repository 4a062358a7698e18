import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, qrSvg, totpCode, totpUri } from './totp.js';
import { hashPassword, passwordProblem, randomPassword, verifyPassword } from './passwords.js';

describe('totp', () => {
  // RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (base32 below), 6 of the 8 digits.
  const RFC = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

  it('matches the RFC 6238 test vectors', () => {
    expect(totpCode(RFC, 59_000)).toBe('287082');
    expect(totpCode(RFC, 1111111109_000)).toBe('081804');
    expect(totpCode(RFC, 1234567890_000)).toBe('005924');
  });

  it('accepts the current and adjacent steps once each, refuses replays, other steps and junk', () => {
    const at = 1234567890_000;
    const step = Math.floor(at / 30_000);
    expect(checkTotp(RFC, totpCode(RFC, at), at)).toBe(step);
    expect(checkTotp(RFC, totpCode(RFC, at), at, step)).toBeUndefined();
    expect(checkTotp(RFC, totpCode(RFC, at - 30_000), at)).toBe(step - 1);
    expect(checkTotp(RFC, totpCode(RFC, at + 30_000), at, step)).toBe(step + 1);
    expect(checkTotp(RFC, totpCode(RFC, at + 90_000), at)).toBeUndefined();
    expect(checkTotp(RFC, '12345', at)).toBeUndefined();
    expect(checkTotp(RFC, 'abcdef', at)).toBeUndefined();
  });

  it('builds the otpauth URI and an SVG QR code', async () => {
    const s = newTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(totpUri(s, 'ada')).toBe(`otpauth://totp/FoundryCloud:ada?issuer=FoundryCloud&secret=${s}&algorithm=SHA1&digits=6&period=30`);
    expect(await qrSvg(totpUri(s, 'ada'))).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>\n?$/s);
  });
});

describe('passwords', () => {
  it('hashes with scrypt and a salt, verifies, refuses wrong and malformed', async () => {
    const h1 = await hashPassword('correct horse battery');
    const h2 = await hashPassword('correct horse battery');
    expect(h1).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{86}$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('correct horse battery', h1)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h1)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });

  it('generates typeable one-time passwords and checks new ones', () => {
    expect(randomPassword()).toMatch(/^[a-hjkmnp-z2-9]{20}$/);
    expect(passwordProblem('short')).toBe('the password must have at least 12 characters');
    expect(passwordProblem('long enough pass')).toBeUndefined();
  });
});
