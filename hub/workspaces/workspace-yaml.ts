/**
 * Edits of infra-repo YAML the hub commits: a new Workspace file, setting fields of one document in a
 * multi-document file (comments and the other documents kept), removing one document.
 */
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { FoundryError } from '../../common/errors.js';
import type { Workspace } from '../../common/infra/model.js';

/** The conventional path of a workspace file. */
export function workspacePath(tenant: string, name: string): string {
  return `workspaces/${tenant}/${name}.yaml`;
}

/** A new Workspace file (with the editor schema line). */
export function workspaceFile(ws: Workspace, comment?: string): string {
  const head = '# yaml-language-server: $schema=../../schemas/infra.schema.json\n';
  const note = comment === undefined ? '' : comment.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n';
  return head + note + stringify(ws);
}

function docsOf(text: string, file: string): Document.Parsed[] {
  // Not the library's uniqueKeys (quadratic in the keys of a mapping, on the hub's event loop); validation refuses duplicates.
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  if (!Array.isArray(docs)) throw new FoundryError('INFRA_YAML', `${file}: not a yaml stream`, { resource: file });
  return docs;
}

function find(docs: Document.Parsed[], kind: string, name: string, file: string): Document.Parsed {
  const d = docs.find((x) => x.get('kind') === kind && x.getIn(['metadata', 'name']) === name);
  if (d === undefined) throw new FoundryError('NOT_FOUND', `${file} holds no ${kind} ${name}`, { resource: file });
  return d;
}

function join(docs: Document.Parsed[]): string {
  // a document after the first prints its own '---' marker: strip it and put exactly one between documents
  return docs.map((d) => d.toString().replace(/^---\n/, '')).join('---\n');
}

/** Sets fields (path → value; undefined deletes) of the `kind` document named `name` in a file's text. */
export function setFields(text: string, file: string, kind: string, name: string, fields: Array<[Array<string>, unknown]>): string {
  const docs = docsOf(text, file);
  const d = find(docs, kind, name, file);
  for (const [path, value] of fields) {
    if (value === undefined) d.deleteIn(path);
    else d.setIn(path, value);
  }
  return join(docs);
}

/** Removes the `kind` document named `name`; null when the file has nothing else left. */
export function removeDoc(text: string, file: string, kind: string, name: string): string | null {
  const docs = docsOf(text, file);
  const d = find(docs, kind, name, file);
  const rest = docs.filter((x) => x !== d && x.contents !== null);
  return rest.length === 0 ? null : join(rest);
}
