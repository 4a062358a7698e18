/**
 * Secrets for a VM through cloud-init: `write_files` entries (base64, the permissions the template asks
 * for, owner root) appended to the template's #cloud-config user data. Pure; the driver writes the
 * result into the NoCloud seed only for VMs whose template lists secrets.
 */
import { isSeq, parseDocument } from 'yaml';

/** One file cloud-init writes into the guest. */
export interface SecretFile {
  path: string;
  permissions: string;
  content: Uint8Array;
}

/** The user data with `files` added to write_files; throws (naming no value) when the user data is not a #cloud-config mapping. */
export function withSecretFiles(userData: string | undefined, files: readonly SecretFile[]): string | undefined {
  if (files.length === 0) return userData;
  const text = userData ?? '#cloud-config\n';
  if (!/^#cloud-config[ \t]*\r?\n/.test(text)) throw new Error('secrets for a VM need #cloud-config user data (cloudInit.userData starts with another format)');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cloudInit.userData is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  const existing = doc.get('write_files');
  if (existing === undefined) doc.set('write_files', doc.createNode([]));
  else if (!isSeq(existing)) throw new Error('cloudInit.userData has a write_files that is not a list');
  for (const f of files) doc.addIn(['write_files'], doc.createNode({ path: f.path, permissions: f.permissions, owner: 'root:root', encoding: 'b64', content: Buffer.from(f.content).toString('base64') }));
  return `#cloud-config\n${doc.toString({ lineWidth: 0 }).replace(/^#cloud-config[ \t]*\r?\n/, '')}`;
}
