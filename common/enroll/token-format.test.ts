import { describe, expect, it } from 'vitest';
import { curlPin, decodeJoinToken, encodeJoinToken, newJoinSecret } from './token-format.js';

describe('join token format', () => {
  const secret = newJoinSecret();
  const pin = Buffer.alloc(32, 7).toString('base64url');

  it('round-trips secret, pin and hub url; a bare secret decodes too', () => {
    const text = encodeJoinToken({ secret, pin, hubUrl: 'https://hub.example.eu:8443' });
    expect(text).toMatch(/^fjt_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/);
    expect(decodeJoinToken(text)).toEqual({ secret, pin, hubUrl: 'https://hub.example.eu:8443' });
    expect(decodeJoinToken(encodeJoinToken({ secret, pin: undefined, hubUrl: undefined }))).toEqual({ secret, pin: undefined, hubUrl: undefined });
    expect(decodeJoinToken(secret)).toEqual({ secret, pin: undefined, hubUrl: undefined });
  });

  it('refuses malformed tokens without echoing them', () => {
    for (const bad of ['', 'fat_x', `${secret}.short`, `${secret}.${pin}.${Buffer.from('ftp://x').toString('base64url')}`, `${secret}.a.b.c`]) {
      expect(() => decodeJoinToken(bad)).toThrow(/^malformed join token/);
    }
    try {
      decodeJoinToken(`${secret}.bad`);
    } catch (err) {
      expect(String(err)).not.toContain(secret);
    }
  });

  it('gives curl the pin as sha256//<standard base64>', () => {
    expect(curlPin(pin)).toBe(`sha256//${Buffer.alloc(32, 7).toString('base64')}`);
  });
});
