/** Parsing of the duration and quantity strings the schemas allow. */

const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const QUANTITY = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as const;

/** "10s" → 10000. Throws on anything the schema pattern would reject. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`invalid duration "${text}": expected a whole number followed by ms, s, m or h`);
  return Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS];
}

/** "4Gi" → 4294967296. Throws on anything the schema pattern would reject. */
export function parseQuantity(text: string): number {
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)?$/.exec(text);
  if (m === null) throw new Error(`invalid quantity "${text}": expected a whole number with an optional Ki, Mi, Gi or Ti suffix`);
  return Number(m[1]) * QUANTITY[(m[2] ?? '') as keyof typeof QUANTITY];
}
