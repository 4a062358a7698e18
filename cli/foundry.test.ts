import { describe, expect, it } from 'vitest';
import { buildCli, shortLived } from './foundry.js';

const argv = (...words: string[]): string[] => ['node', 'foundry', ...words];

describe('foundry CLI start-up', () => {
  it('tunes V8 for short lives only for one-shot commands, never for the agent loop, the hub or foundry dev', () => {
    for (const line of [argv('validate', 'x'), argv('secret', 'encrypt'), argv('agent', 'run', '--once'), argv('agent', 'plan'), argv('agent', 'status'), argv('agent', 'run', '-c', 'a.yaml', '--once')]) expect(shortLived(line), line.join(' ')).toBe(true);
    for (const line of [argv('agent', 'run'), argv('agent', 'run', '-c', 'a.yaml'), argv('hub', 'start'), argv('dev'), argv('--help'), argv()]) expect(shortLived(line), line.join(' ')).toBe(false);
  });

  it('registers only the agent sub-command the line names, and all of them for help', async () => {
    const names = async (...words: string[]): Promise<string[]> => (await buildCli(argv(...words))).commands.find((c) => c.name() === 'agent')!.commands.map((c) => c.name());
    expect(await names('agent', 'run', '--once')).toEqual(['run']);
    expect(await names('agent', 'status')).toEqual(['status']);
    expect(await names('agent', '--help')).toEqual(['plan', 'gpus', 'run', 'sync', 'status', 'enroll']);
    expect(await names('agent', 'nonsense')).toEqual(['plan', 'gpus', 'run', 'sync', 'status', 'enroll']);
  });
});
