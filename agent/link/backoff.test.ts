import { describe, it, expect } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('backoff', () => {
  it('grows ×1.6 from 1 s and caps at 2 min without jitter (random = 0.5)', () => {
    const b = new Backoff(() => 0.5);
    const seq = Array.from({ length: 14 }, () => b.next());
    expect(seq).toEqual([1000, 1600, 2560, 4096, 6554, 10486, 16777, 26844, 42950, 68719, 109951, 120000, 120000, 120000]);
  });

  it('jitters ±20 % at the extremes of random', () => {
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 0.999999)).toBe(1200);
    expect(backoffDelay(20, () => 0)).toBe(96_000);
    expect(backoffDelay(20, () => 0.999999)).toBe(144_000);
  });

  it('starts over after reset', () => {
    const b = new Backoff(() => 0.5);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(1000);
  });
});
