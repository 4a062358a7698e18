/**
 * Parses one YAML file of the infra repo into validated documents: malformed YAML, documents that are
 * not mappings, unknown kinds and schema violations become issues with file:line:column.
 */
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { validatorFor } from '../schema.js';
import { INFRA_KINDS, type InfraIssue, type InfraKind, type Located, type SourcePosition } from './model.js';
import { schemaIssues } from './schema-issues.js';
import { locatorFor, yamlErrorAt } from './yaml-locate.js';
import { yamlHygieneIssues } from './yaml-hygiene.js';
import type { RepoFile } from './files.js';

/** A schema-valid document with its kind and name. */
export interface LoadedDoc {
  kind: InfraKind;
  name: string;
  located: Located<unknown>;
}

/** Documents that failed validation, as "Kind/name", so references to them are not reported twice. */
export type InvalidNames = Set<string>;

const API_VERSION = 'foundry.cloud/v1';
const OVER_INDENTED_MESSAGE = 'line indented more than its siblings, under a key whose value is already on the line above (implicit keys need to be on a single line)';

/** Schema file of a kind: WorkspaceTemplate → workspace-template.schema.json. */
export function schemaKeyOf(kind: InfraKind): string {
  return `${kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.schema.json`;
}

/** Parses and validates every document of `file`; pushes issues, returns the valid documents. */
export function parseRepoFile(file: RepoFile, issues: InfraIssue[], invalid: InvalidNames, builtin = false): LoadedDoc[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(file.text, { lineCounter, prettyErrors: true, uniqueKeys: false, merge: true });
  const out: LoadedDoc[] = [];
  for (const doc of docs) {
    const loaded = parseDocument(doc, file, lineCounter, issues, invalid, builtin);
    if (loaded !== undefined) out.push(loaded);
  }
  return out;
}

function parseDocument(doc: Document, repoFile: RepoFile, lineCounter: LineCounter, issues: InfraIssue[], invalid: InvalidNames, builtin: boolean): LoadedDoc | undefined {
  const file = repoFile.file;
  const startOffset = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  const start = lineCounter.linePos(startOffset);
  const source: SourcePosition = { file, line: start.line, column: start.col };
  if (doc.errors.length > 0) {
    if (repoFile.refused === true) return undefined;
    const seen = new Set<string>();
    for (const err of doc.errors) {
      const at = yamlErrorAt(repoFile.text, err, lineCounter);
      const message = at.overIndented ? OVER_INDENTED_MESSAGE : yamlMessage(err.message);
      // The library reports an over-indented line twice (two codes); one issue says it.
      if (seen.has(`${at.line}:${at.column}:${message}`)) continue;
      seen.add(`${at.line}:${at.column}:${message}`);
      issues.push({ code: 'INFRA_YAML', file, line: at.line, column: at.column, path: '', message });
    }
    return undefined;
  }
  // Duplicate keys here, not by the library's uniqueKeys (quadratic in the keys of a mapping).
  const hygiene = repoFile.refused === true ? [] : yamlHygieneIssues(doc, lineCounter, file, repoFile.text);
  issues.push(...hygiene);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    issues.push({ code: 'INFRA_YAML', file, line: source.line, column: source.column, path: '', message: yamlMessage(err instanceof Error ? err.message : String(err)) });
    return undefined;
  }
  if (value === null || value === undefined) return undefined; // an empty document (e.g. a trailing ---)
  if (repoFile.refused === true && (typeof value !== 'object' || Array.isArray(value))) return undefined;
  const locate = locatorFor(doc, lineCounter, file, source);
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push({ code: 'INFRA_SCHEMA', file, line: source.line, column: source.column, path: '', message: `expected a mapping with apiVersion, kind, metadata and spec, got ${Array.isArray(value) ? 'a list' : 'a single value'}` });
    return undefined;
  }
  const obj = value as Record<string, unknown>;
  const name = typeof (obj.metadata as Record<string, unknown> | undefined)?.name === 'string' ? String((obj.metadata as Record<string, unknown>).name) : undefined;
  const kind = obj.kind;
  if (hygiene.length > 0 || repoFile.refused === true) {
    // Already reported: only remember the name, so references to it are not reported as dangling.
    if (typeof kind === 'string' && name !== undefined) invalid.add(`${kind}/${name}`);
    return undefined;
  }
  if (typeof kind !== 'string' || !(INFRA_KINDS as readonly string[]).includes(kind)) {
    const at = locate(['kind']);
    const what = kind === undefined ? 'missing kind' : `unknown kind ${JSON.stringify(kind)}`;
    issues.push({ code: 'INFRA_UNKNOWN_KIND', file, line: at.line, column: at.column, path: 'kind', message: `${what}: expected one of ${INFRA_KINDS.join(', ')}` });
    if (obj.apiVersion !== API_VERSION) {
      const av = locate(['apiVersion']);
      issues.push({ code: 'INFRA_SCHEMA', file, line: av.line, column: av.column, path: 'apiVersion', message: `expected "${API_VERSION}", got ${obj.apiVersion === undefined ? 'nothing' : JSON.stringify(obj.apiVersion)}` });
    }
    return undefined;
  }
  const validate = validatorFor(schemaKeyOf(kind as InfraKind));
  if (!validate(obj)) {
    issues.push(...schemaIssues(validate.errors ?? [], doc, locate, file));
    if (name !== undefined) invalid.add(`${kind}/${name}`);
    return undefined;
  }
  return { kind: kind as InfraKind, name: name ?? '', located: { doc: obj, source, locate, ...(builtin ? { builtin: true } : {}) } };
}

/** The yaml library's message without its " at line X, column Y:" suffix and code excerpt, lowercased. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
  return /^[A-Z][a-z]/.test(first) ? first[0]!.toLowerCase() + first.slice(1) : first;
}
