import { expect, it } from 'vitest';
import { gitErrorText } from './git-message.js';

it('keeps the fatal lines of a fetch from a path that is no repository, not the advice after them', () => {
  const stderr = [
    "fatal: '.foundry/hub/infra.git' does not appear to be a git repository",
    'fatal: Could not read from remote repository.',
    '',
    'Please make sure you have the correct access rights',
    'and the repository exists.',
    '',
  ].join('\n');
  expect(gitErrorText(stderr)).toBe("'.foundry/hub/infra.git' does not appear to be a git repository; Could not read from remote repository.");
});

it('keeps error lines, drops hints, and falls back to the first lines or a placeholder', () => {
  expect(gitErrorText('hint: use --force\nerror: failed to push some refs to origin\n')).toBe('failed to push some refs to origin');
  expect(gitErrorText('warning: something odd\n')).toBe('warning: something odd');
  expect(gitErrorText('')).toBe('git failed');
});
