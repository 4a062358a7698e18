/**
 * Checks on a parsed YAML document that the yaml library either does too slowly or not at all, in one
 * linear pass over the AST: duplicate keys in a mapping (the library's own `uniqueKeys` compares every
 * key with every earlier one, quadratic: a 1 MiB file with 40,000 keys in one mapping took over a minute),
 * NUL characters in values (e.g. the escape "\0") and numbers too large to represent (`1e309` would
 * become Infinity, which JSON and the schemas see as null).
 */
import { isUtf8 } from 'node:buffer';
import { isMap, isScalar, visit, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import type { InfraIssue } from './model.js';

/** Longest source excerpt quoted in a message. */
const MAX_EXCERPT = 40;

/** Issues of one document: duplicate keys, NUL characters, out-of-range numbers; each with file:line:column. */
export function yamlHygieneIssues(doc: Document, lineCounter: LineCounter, file: string, text: string): InfraIssue[] {
  const issues: InfraIssue[] = [];
  const at = (node: YamlNode | null | undefined, message: string): void => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    issues.push({ code: 'INFRA_YAML', file, line: pos.line, column: pos.col, path: '', message });
  };
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        // Same rule as the library's default: scalar keys with the same value; merge keys may repeat.
        if (!isScalar(key) || key.value === '<<') continue;
        const id = `${typeof key.value}:${String(key.value)}`;
        if (seen.has(id)) at(key, 'map keys must be unique');
        seen.add(id);
      }
    },
    Scalar(_key, node) {
      const v = node.value;
      if (typeof v === 'string' && v.includes('\u0000')) at(node, `NUL character in a value (${excerpt(node, text)}): expected text without NUL bytes`);
      else if (typeof v === 'number' && !Number.isFinite(v) && !/^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(node.source ?? sourceOf(node, text))) {
        at(node, `number out of range: ${excerpt(node, text)} is too large to represent (at most about 1.8e308)`);
      }
    },
  });
  return issues;
}

function sourceOf(node: YamlNode, text: string): string {
  const r = node.range;
  return r === undefined || r === null ? '' : text.slice(r[0], r[1]).trim();
}

/** The node's source text, shortened, without NULs (messages are printed to terminals). */
function excerpt(node: YamlNode, text: string): string {
  const s = sourceOf(node, text).replaceAll('\u0000', '\\0');
  return s.length > MAX_EXCERPT ? `${s.slice(0, MAX_EXCERPT - 3)}...` : s;
}

/**
 * File-level byte checks before parsing: the first byte sequence that is not UTF-8 and the first raw NUL
 * byte, each with line and column, so a file is never decoded with silent replacement characters.
 */
export function byteIssues(bytes: Buffer, file: string): InfraIssue[] {
  const issues: InfraIssue[] = [];
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, column } = positionOfByte(bytes, nul);
    issues.push({ code: 'INFRA_YAML', file, line, column, path: '', message: 'NUL byte in the file: expected UTF-8 text without NUL bytes' });
  }
  if (!isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    const { line, column } = positionOfByte(bytes, bad);
    issues.push({ code: 'INFRA_YAML', file, line, column, path: '', message: `invalid UTF-8 (byte 0x${bytes[bad]!.toString(16).padStart(2, '0')}): expected the file to be UTF-8 text` });
  }
  return issues;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (linear scan). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    const seq = b.subarray(i, i + n + 1);
    if (seq.length !== n + 1 || !isUtf8(seq)) return i;
    i += n + 1;
  }
  return 0;
}

/** 1-based line and column (in characters of that line's valid prefix) of byte `offset`. */
function positionOfByte(bytes: Buffer, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: bytes.subarray(start, offset).toString('utf8').length + 1 };
}
