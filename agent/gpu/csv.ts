/**
 * The CSV that `nvidia-smi --query-*` prints. nvidia-smi does not quote: it joins values with ", ", so a
 * process name that contains a comma yields extra cells. We tolerate RFC 4180 quotes anyway, and fold
 * surplus cells back into the one free-text column (the process or GPU name, which we query last).
 */
import { FoundryError } from '../../common/errors.js';

/** One parsed row: the raw (trimmed) text of each requested field; absent when the column is missing. */
export type CsvRow = Record<string, string | undefined>;

/** How to read a `--query-*` output. */
export interface QueryCsvOptions {
  /** The fields as passed to `--query-*=`, in order (used when the output has no header). */
  fields: readonly string[];
  /** The one field whose value may contain commas (surplus cells are joined back into it). */
  freeText: string;
  /** Resource for errors (e.g. "nvidia-smi --query-gpu"). */
  resource: string;
}

/** Splits one line on commas; a cell that starts with a double quote runs to its closing quote. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let j = i;
    while (j < line.length && line[j] === ' ') j++;
    if (line[j] === '"') {
      let text = '';
      j++;
      while (j < line.length) {
        if (line[j] === '"' && line[j + 1] === '"') { text += '"'; j += 2; continue; }
        if (line[j] === '"') { j++; break; }
        text += line[j];
        j++;
      }
      // Anything between the closing quote and the next comma is kept, as a lenient reader would.
      const comma = line.indexOf(',', j);
      cells.push(text + (comma < 0 ? line.slice(j) : line.slice(j, comma)).trimEnd());
      if (comma < 0) return cells;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) { cells.push(line.slice(i)); return cells; }
      cells.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** A header cell without its unit: "memory.used [MiB]" → "memory.used". */
function headerName(cell: string): string {
  return cell.trim().replace(/\s*\[[^\]]*\]$/, '');
}

/**
 * Parses `--format=csv[,noheader][,nounits]` output into rows keyed by field. With a header, columns
 * are taken from it (so captures with other field orders parse too); without, from `fields`.
 * Throws NVIDIA_SMI_PARSE when a row has fewer cells than columns (truncated or garbage output).
 */
export function parseQueryCsv(text: string, opts: QueryCsvOptions): CsvRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  const wanted = new Set(opts.fields);
  const first = splitCsvLine(lines[0] as string).map(headerName);
  const hasHeader = first.some((c) => wanted.has(c));
  const columns = hasHeader ? first : [...opts.fields];
  const free = columns.indexOf(opts.freeText);
  const rows: CsvRow[] = [];
  for (let n = hasHeader ? 1 : 0; n < lines.length; n++) {
    let cells = splitCsvLine(lines[n] as string);
    if (cells.length > columns.length && free >= 0) {
      const extra = cells.length - columns.length;
      cells = [...cells.slice(0, free), cells.slice(free, free + extra + 1).join(','), ...cells.slice(free + extra + 1)];
    }
    if (cells.length !== columns.length) {
      throw new FoundryError('NVIDIA_SMI_PARSE', `unexpected nvidia-smi csv: line ${n + 1} has ${cells.length} values, expected ${columns.length}`, {
        resource: opts.resource,
        details: { line: n + 1, values: cells.length, expected: columns.length },
      });
    }
    const row: CsvRow = {};
    columns.forEach((c, k) => { row[c] = (cells[k] as string).trim(); });
    rows.push(row);
  }
  return rows;
}
