import { describe, expect, it } from 'vitest';
import { compareText } from './text-order.js';

describe('compareText', () => {
  it('orders ids (lowercase names, digits, -, ., /) exactly as localeCompare did', () => {
    const ids = ['ws/acme-alice/container/web', 'ws/acme-alice/container/api', 'ws/acme-alice.vm.desk', 'ws/acme-alice/volume/data', 'ws/acme-bob-2/container/db', 'ws/acme-bob/container/db', 'fc-ws-a1', 'fc-ws-a10', 'fc-ws-a2', 'fc-ws-a', 'fc-ws-a-b', 'fc-ws-ab', 'svc.web', 'svc-web', 'svc/web', 'tcp', 'udp', '10.0.0.1', '127.0.0.1', ''];
    for (const a of ids) for (const b of ids) expect(Math.sign(compareText(a, b)), `${a} vs ${b}`).toBe(Math.sign(a.localeCompare(b)));
  });

  it('is plain code-unit order beyond that (upper case before lower case), the same in every locale', () => {
    expect(compareText('B', 'a')).toBeLessThan(0);
    expect(compareText('a', 'a')).toBe(0);
    expect(['b', 'a', 'c'].sort(compareText)).toEqual(['a', 'b', 'c']);
  });
});
