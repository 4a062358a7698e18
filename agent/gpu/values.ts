/**
 * nvidia-smi value cleaning shared by the CSV and XML parsers. nvidia-smi reports a missing value in many
 * spellings ("[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "[GPU is lost]"...): all become null,
 * so a missing reading never turns into NaN or 0.
 */

// Any bracketed token is an nvidia-smi status ("[N/A]", "[Not Supported]", "[Requested functionality has
// been deprecated]", "[Unknown Error]", "[Insufficient Permissions]", "[GPU is lost]").
const BRACKETED = /^\[[^\]]*\]$/;
const PLAIN_MISSING = new Set(['', 'N/A', 'n/a', 'Not Supported', 'Unknown Error', 'Not Available']);

/** The trimmed text, or null when nvidia-smi says the value is missing or unsupported. */
export function cleanValue(raw: string | undefined | null): string | null {
  if (raw === undefined || raw === null) return null;
  const v = raw.trim();
  if (PLAIN_MISSING.has(v) || BRACKETED.test(v)) return null;
  return v;
}

// A number with an optional unit: "81559 MiB", "631.95 W", "100 %", "59 C", "1980 MHz", "0 us".
// Only the units nvidia-smi prints, so "12abc" is rejected rather than read as 12.
const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)(?:\s*(MiB|GiB|KiB|MB|KB\/s|W|%|C|MHz|us|ms|mV|x))?$/;

/** A finite number from a value such as "631.95 W" or "100"; null when missing or not numeric. */
export function parseNumber(raw: string | undefined | null): number | null {
  const v = cleanValue(raw);
  if (v === null) return null;
  const m = NUMBER_WITH_UNIT.exec(v);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

/** An integer (pids, MiB, ids); null when missing, not numeric or fractional. */
export function parseInteger(raw: string | undefined | null): number | null {
  const n = parseNumber(raw);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** "Enabled" → true, "Disabled" → false, anything else (N/A on GPUs without MIG) → null. */
export function parseEnabled(raw: string | undefined | null): boolean | null {
  const v = cleanValue(raw);
  if (v === null) return null;
  if (/^enabled$/i.test(v)) return true;
  if (/^disabled$/i.test(v)) return false;
  return null;
}

/** Normalises a PCI bus id ("00000000:01:00.0" or "0000:01:00.0") to lower-case "0000:01:00.0" form. */
export function normalizePciBusId(raw: string | undefined | null): string | null {
  const v = cleanValue(raw);
  if (v === null) return null;
  const m = /^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(v);
  if (m === null) return null;
  const domain = (m[1] as string).slice(-4);
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}
