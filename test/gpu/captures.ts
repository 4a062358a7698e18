/** Access to the real nvidia-smi captures in fixtures/nvidia-smi/ (test helper). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

/** Folder of the captures. */
export const CAPTURE_DIR = join(PACKAGE_ROOT, 'fixtures', 'nvidia-smi');

/** Text of one capture file. */
export function capture(name: string): string {
  return readFileSync(join(CAPTURE_DIR, name), 'utf8');
}

/** Every file in the capture folder. */
export function captureFiles(): string[] {
  return readdirSync(CAPTURE_DIR).sort();
}

/**
 * The body of one section of a full-capture file ("# idle :: query-gpu ..." between rules of '#'),
 * found by the start of its title line.
 */
export function captureSection(name: string, title: string): string {
  const lines = capture(name).split('\n');
  const at = lines.findIndex((l) => l.startsWith(`# ${title}`));
  if (at < 0) throw new Error(`no section "${title}" in ${name}`);
  let start = at;
  while (start < lines.length && !(lines[start] as string).startsWith('#####')) start++;
  let end = start + 1;
  while (end < lines.length && !(lines[end] as string).startsWith('#####')) end++;
  return `${lines.slice(start + 1, end).join('\n').trimEnd()}\n`;
}
