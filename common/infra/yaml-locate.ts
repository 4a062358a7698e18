/**
 * Source positions inside a parsed YAML document: walks the AST by a field path so that every issue
 * points at the exact line and column of the offending key or value.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode, type YAMLError } from 'yaml';
import type { Locator, PathSegment, SourcePosition } from './model.js';

interface Found {
  /** Deepest node reached. */
  node: YamlNode | null;
  /** Key node of the last pair walked through (for key positions). */
  key: YamlNode | null;
  /** Whether the whole path was found. */
  complete: boolean;
}

/** Walks `path` from the document root, stopping at the deepest node that exists. */
export function walkPath(doc: Document, path: readonly PathSegment[]): Found {
  let node = (doc.contents ?? null) as YamlNode | null;
  let key: YamlNode | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyMatches(p.key, seg));
      if (pair === undefined) return { node, key, complete: false };
      key = (pair.key ?? null) as YamlNode | null;
      // A key without a value (`image:`) has a null value node: stay on the key.
      node = (pair.value ?? null) as YamlNode | null;
      if (node === null) return { node: key, key, complete: true };
    } else if (isSeq(node)) {
      const index = typeof seg === 'number' ? seg : Number(seg);
      const item = Number.isInteger(index) ? node.items[index] : undefined;
      if (item === undefined) return { node, key, complete: false };
      key = null;
      node = item as YamlNode;
    } else {
      return { node, key, complete: false };
    }
  }
  return { node, key, complete: true };
}

function keyMatches(key: unknown, seg: PathSegment): boolean {
  const value = isScalar(key) ? key.value : key;
  return value === seg || String(value) === String(seg);
}

/** Whether the node at `path` is a YAML sequence (ajv's JSON pointers do not say which segments are indexes). */
export function isSeqAt(doc: Document, path: readonly PathSegment[]): boolean {
  const found = walkPath(doc, path);
  return found.complete && isSeq(found.node);
}

/** A Locator for one document; `fallback` is used when the document has no usable node. */
export function locatorFor(doc: Document, lineCounter: LineCounter, file: string, fallback: SourcePosition): Locator {
  return (path, options = {}) => {
    const found = walkPath(doc, path);
    const target = options.key === true && found.complete && found.key !== null ? found.key : found.node;
    const offset = target?.range?.[0];
    if (offset === undefined) return fallback;
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
}

/** Splits an ajv instancePath ("/spec/containers/0/image") into segments, numbers where the YAML has a list. */
export function pointerToPath(doc: Document, pointer: string): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out.push(/^[0-9]+$/.test(seg) && isSeqAt(doc, out) ? Number(seg) : seg);
  }
  return out;
}

/** Errors of a line indented under a key whose value already stands on the line above. */
const OVER_INDENTED = new Set(['BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY']);

/**
 * Where a YAML syntax error is. The yaml library reports an over-indented line (`state: running`
 * followed by `    node: gpu-01`) at the value on the line above it, and some indentation errors at
 * a blank or comment line before the culprit; both are moved to the first character of the next
 * line with content, the line to fix. Other errors keep the library's position.
 */
export function yamlErrorAt(text: string, err: YAMLError, lineCounter: LineCounter): { line: number; column: number; overIndented: boolean } {
  const start = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
  const overIndented = OVER_INDENTED.has(err.code);
  const lines = text.split('\n');
  const content = (i: number): number => {
    const l = lines[i] ?? '';
    return l.trimStart().startsWith('#') ? -1 : l.search(/\S/);
  };
  if (!overIndented && content(start.line - 1) >= 0) return { line: start.line, column: start.col, overIndented };
  for (let i = overIndented ? start.line : start.line - 1; i < lines.length; i++) {
    if (content(i) >= 0) return { line: i + 1, column: content(i) + 1, overIndented };
  }
  return { line: start.line, column: start.col, overIndented };
}
