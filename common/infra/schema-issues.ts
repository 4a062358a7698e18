/**
 * Turns ajv errors into infra issues a person can act on: the exact place of the offending node, the
 * field path in dotted form and what was expected (allowed values, the meaning of a pattern).
 */
import type { ErrorObject } from 'ajv';
import type { Document } from 'yaml';
import { dottedPath, type InfraIssue, type Locator, type PathSegment } from './model.js';
import { pointerToPath } from './yaml-locate.js';

/** Plain-words meanings of patterns whose schema carries no description of its own. */
const PATTERN_MEANINGS: Record<string, string> = {
  '^/': 'an absolute path (starting with /)',
  '^[A-Za-z_][A-Za-z0-9_]*$': "a name of letters, digits and '_', not starting with a digit",
  '^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$': "an optional DNS prefix and '/', then letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  '^[^\\s]+$': 'a value without spaces',
  '^[A-Z]{3}$': 'a three-letter ISO 4217 code such as EUR',
};

type Schema = Record<string, unknown> | undefined;

/**
 * Schema errors explained per document; the rest are counted. Each explanation walks the document to the
 * offending node, so tens of thousands of errors (one per key of a huge mapping) would cost seconds.
 */
export const MAX_SCHEMA_ERRORS = 200;

/** Converts the errors of one document's validation into issues, grouped and de-duplicated. */
export function schemaIssues(allErrors: ErrorObject[], doc: Document, locate: Locator, file: string): InfraIssue[] {
  const errors = allErrors.slice(0, MAX_SCHEMA_ERRORS);
  const dropped = new Set<ErrorObject>();
  const extra = new Map<ErrorObject, string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      // Branches that only require one field: one message naming the choices instead of one per branch.
      const names = requiredChoices(e.schema);
      if (names === undefined) continue;
      for (const other of errors) if (other.schemaPath.startsWith(`${e.schemaPath}/`)) dropped.add(other);
    } else if (e.keyword === 'if') {
      dropped.add(e);
      const condition = ifCondition(e.parentSchema);
      const data = e.data as Record<string, unknown> | undefined;
      const thenPath = `${e.schemaPath.slice(0, -'/if'.length)}/then/`;
      for (const other of errors) {
        if (!other.schemaPath.startsWith(thenPath)) continue;
        // The condition holds vacuously when its field is missing; that field gets its own error.
        if (condition === undefined || data === undefined || condition.fields.some((f) => !(f in data))) dropped.add(other);
        else extra.set(other, ` (required when ${condition.text})`);
      }
    } else if (e.keyword === 'propertyNames') {
      dropped.add(e); // the nested error carries the offending property name
    }
  }
  const issues: InfraIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e)) continue;
    const base = pointerToPath(doc, e.instancePath);
    const { path, key, message } = explain(e, base);
    const at = e.keyword === 'required' ? locate(base) : locate(path, { key });
    const issue: InfraIssue = { code: 'INFRA_SCHEMA', file, line: at.line, column: at.column, path: dottedPath(path), message: message + (extra.get(e) ?? '') };
    const id = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (!seen.has(id)) issues.push(issue);
    seen.add(id);
  }
  if (allErrors.length > errors.length) {
    const at = locate([]);
    issues.push({ code: 'INFRA_SCHEMA', file, line: at.line, column: at.column, path: '', message: `${allErrors.length - errors.length} more schema errors in this document not shown: fix the ones above first` });
  }
  return issues;
}

function explain(e: ErrorObject, base: PathSegment[]): { path: PathSegment[]; key: boolean; message: string } {
  const p = e.params as Record<string, unknown>;
  const parent = e.parentSchema as Schema;
  if (e.propertyName !== undefined) {
    return { path: [...base, e.propertyName], key: true, message: `invalid key ${JSON.stringify(e.propertyName)}: expected ${patternMeaning(parent, String(p.pattern ?? ''))}` };
  }
  switch (e.keyword) {
    case 'required': {
      const name = String(p.missingProperty);
      const desc = describeField((parent?.properties as Record<string, Schema> | undefined)?.[name]);
      return { path: [...base, name], key: false, message: `required field is missing${desc === undefined ? '' : `: expected ${desc}`}` };
    }
    case 'additionalProperties': {
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      const list = allowed.length === 0 ? 'no fields here' : `one of ${allowed.join(', ')}`;
      return { path: [...base, String(p.additionalProperty)], key: true, message: `unknown field: expected ${list}` };
    }
    case 'enum':
      return { path: base, key: false, message: `expected one of ${(p.allowedValues as unknown[]).map(show).join(', ')}, got ${show(e.data)}` };
    case 'const':
      return { path: base, key: false, message: `expected ${show(p.allowedValue)}, got ${show(e.data)}` };
    case 'type':
      return { path: base, key: false, message: `expected ${typeWords(String(p.type))}, got ${typeOf(e.data)}` };
    case 'pattern':
      return { path: base, key: false, message: `invalid value ${show(e.data)}: expected ${patternMeaning(parent, String(p.pattern))}` };
    case 'oneOf':
    case 'anyOf': {
      const names = requiredChoices(e.schema);
      if (names === undefined) return { path: base, key: false, message: 'does not match any of the allowed forms' };
      const both = e.keyword === 'oneOf' && Array.isArray(p.passingSchemas);
      const words = e.keyword === 'oneOf' ? 'exactly one of' : 'at least one of';
      return { path: base, key: false, message: `expected ${words} ${names.join(', ')}${both ? ', not several' : ''}` };
    }
    case 'format':
      return { path: base, key: false, message: `invalid value ${show(e.data)}: expected ${formatWords(String(p.format))}` };
    case 'uniqueItems':
      return { path: [...base, Number(p.i)], key: false, message: `duplicate item: expected unique items (same as item ${String(p.j)})` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
      return { path: base, key: false, message: `${limitWords(e.keyword, Number(p.limit))}, got ${show(e.data)}` };
    default:
      return { path: base, key: false, message: e.message ?? 'is invalid' };
  }
}

/** For oneOf/anyOf schemas whose branches each only require fields: the field names; otherwise undefined. */
function requiredChoices(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const names: string[] = [];
  for (const b of branches as Schema[]) {
    if (b === undefined || Object.keys(b).length !== 1 || !Array.isArray(b.required)) return undefined;
    names.push(...(b.required as string[]));
  }
  return names;
}

/** "driver is libvirt" from `if: { properties: { driver: { const: libvirt } } }`. */
function ifCondition(parent: Schema): { text: string; fields: string[] } | undefined {
  const props = ((parent?.if as Schema)?.properties ?? {}) as Record<string, Schema>;
  const parts = Object.entries(props).filter(([, s]) => s !== undefined && 'const' in s);
  if (parts.length === 0) return undefined;
  return { text: parts.map(([k, s]) => `${k} is ${String(s?.const)}`).join(' and '), fields: parts.map(([k]) => k) };
}

function describeField(schema: Schema): string | undefined {
  const desc = schema?.description;
  return typeof desc === 'string' ? sentence(desc) : undefined;
}

function patternMeaning(parent: Schema, pattern: string): string {
  const known = PATTERN_MEANINGS[pattern];
  if (known !== undefined) return known;
  const desc = parent?.description;
  return typeof desc === 'string' ? sentence(desc) : `a value matching /${pattern}/`;
}

/** A schema description as a clause: first letter lowercased (unless an acronym), no final period. */
function sentence(desc: string): string {
  const trimmed = desc.trim().replace(/\.$/, '');
  return /^[A-Z]([a-z ]|$)/.test(trimmed) ? trimmed[0]!.toLowerCase() + trimmed.slice(1) : trimmed;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function typeWords(type: string): string {
  const words: Record<string, string> = { string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' };
  return type.split(',').map((t) => words[t] ?? t).join(' or ');
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value === 'string' ? 'a string' : typeof value === 'boolean' ? 'a boolean' : 'a number'} ${show(value)}`;
}

function formatWords(format: string): string {
  if (format === 'date-time') return 'an RFC 3339 date-time such as 2026-01-01T00:00:00Z';
  return `a valid ${format}`;
}

function limitWords(keyword: string, limit: number): string {
  switch (keyword) {
    case 'minimum': return `expected at least ${limit}`;
    case 'maximum': return `expected at most ${limit}`;
    case 'exclusiveMinimum': return `expected more than ${limit}`;
    case 'exclusiveMaximum': return `expected less than ${limit}`;
    case 'minLength': return `expected at least ${limit} character${limit === 1 ? '' : 's'}`;
    case 'maxLength': return `expected at most ${limit} characters`;
    case 'minItems': return `expected at least ${limit} item${limit === 1 ? '' : 's'}`;
    case 'maxItems': return `expected at most ${limit} items`;
    default: return `expected at least ${limit} entr${limit === 1 ? 'y' : 'ies'}`;
  }
}
