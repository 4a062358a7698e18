import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './login-limiter.js';

describe('LoginLimiter', () => {
  it('blocks an account+address after the limit until the oldest failure leaves the window; success clears it', () => {
    let t = 0;
    const l = new LoginLimiter({ windowMs: 1000, perAccountIp: 3, perIp: 10 }, () => t);
    for (let i = 0; i < 3; i++) {
      expect(l.check('a', '1.1.1.1')).toBe(0);
      l.fail('a', '1.1.1.1');
      t += 100;
    }
    expect(l.check('a', '1.1.1.1')).toBe(700); // first failure at 0 leaves at 1000
    expect(l.check('a', '2.2.2.2')).toBe(0);
    expect(l.check('b', '1.1.1.1')).toBe(0);
    t = 1000;
    expect(l.check('a', '1.1.1.1')).toBe(0);
    l.fail('a', '1.1.1.1');
    expect(l.check('a', '1.1.1.1')).toBe(100);
    l.succeed('a', '1.1.1.1');
    expect(l.check('a', '1.1.1.1')).toBe(0);
  });

  it('blocks an address that tries many accounts', () => {
    const l = new LoginLimiter({ windowMs: 1000, perAccountIp: 3, perIp: 5 }, () => 0);
    for (let i = 0; i < 5; i++) l.fail(`user${i}`, '9.9.9.9');
    expect(l.check('fresh', '9.9.9.9')).toBe(1000);
    expect(l.check('fresh', '8.8.8.8')).toBe(0);
  });
});
