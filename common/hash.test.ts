import { describe, expect, it } from 'vitest';
import { canonicalJson, specHash } from './hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined, x: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"x":0,"z":1}]},"b":1}');
  });
  it('gives equal hashes for equal values in any key order, different for different values', () => {
    expect(specHash({ a: 1, b: 2 })).toBe(specHash({ b: 2, a: 1 }));
    expect(specHash({ a: 1, b: 2 })).not.toBe(specHash({ a: 1, b: 3 }));
    expect(specHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });
});
