import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

const err = { code: 'RUNTIME_ACTION', message: 'boom', retry: 'transient' };

describe('Backoff', () => {
  it('doubles the delay per failure up to the maximum, with the jitter applied', () => {
    let now = 1_000;
    const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 500, now: () => now, random: () => 0.5 });
    expect([1, 2, 3, 4, 5].map(() => b.fail('a', 'h1', err).nextAttemptAt - now)).toEqual([100, 200, 400, 500, 500]);
    const low = new Backoff({ baseDelayMs: 1000, maxDelayMs: 10_000, now: () => now, random: () => 0 });
    expect(low.fail('a', 'h1', err).nextAttemptAt - now).toBe(900);
    now += 1;
  });

  it('holds a resource back until its time, then lets it through', () => {
    let now = 0;
    const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, now: () => now, random: () => 0.5 });
    b.fail('a', 'h1', err);
    expect(b.waiting('a', 'h1')?.failures).toBe(1);
    now = 100;
    expect(b.waiting('a', 'h1')).toBeUndefined();
    expect(b.failures('a')).toBe(1);
    b.succeed('a');
    expect(b.failures('a')).toBe(0);
  });

  it('starts over when the spec changes, and forgets resources that are gone', () => {
    const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, now: () => 0, random: () => 0.5 });
    b.fail('a', 'h1', err);
    b.fail('a', 'h1', err);
    expect(b.waiting('a', 'h2')).toBeUndefined();
    expect(b.fail('a', 'h2', err).failures).toBe(1);
    b.fail('b', 'h1', err);
    b.retain(new Set(['a']));
    expect(b.failures('b')).toBe(0);
    expect(b.failures('a')).toBe(1);
  });
});
