/**
 * The one order of names and ids everywhere plans, observations and usage records are sorted: by UTF-16
 * code unit, the same on every machine and locale. For the lowercase names, digits, '-', '.' and '/' that
 * ids are made of it is the order `localeCompare` gave, without loading ICU's collator (about 2 MB of
 * peak memory for `foundry agent run --once`, bench/podman.bench.mjs).
 */

/** Negative when a sorts before b, positive after, 0 when equal (code-unit order, for Array.prototype.sort). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
