/** Small helpers to build issues that point into a located document. */
import { dottedPath, type InfraIssue, type Located, type PathSegment, type SourcePosition } from './model.js';

/** Position of `path` inside `loc` (the value, or the key with `key`), or the document start. */
export function positionOf(loc: Located<unknown>, path: readonly PathSegment[], key = false): SourcePosition {
  return loc.locate?.(path, { key }) ?? loc.source;
}

/** "file:line:column" of a position, for messages that name a second place. */
export function where(pos: SourcePosition): string {
  return `${pos.file}:${pos.line}:${pos.column}`;
}

/** An issue at `path` of `loc`. */
export function issueAt(code: InfraIssue['code'], loc: Located<unknown>, path: readonly PathSegment[], message: string, key = false): InfraIssue {
  const pos = positionOf(loc, path, key);
  return { code, file: pos.file, line: pos.line, column: pos.column, path: dottedPath(path), message };
}

/** "one of a, b, c" (at most 10 names) or "none declared" for an expected-values clause. */
export function oneOf(names: Iterable<string>): string {
  const list = [...names].sort();
  if (list.length === 0) return 'none are declared';
  const shown = list.slice(0, 10).join(', ');
  return `one of ${shown}${list.length > 10 ? `, ... (${list.length} in all)` : ''}`;
}
