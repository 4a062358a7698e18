/**
 * The OpenStack driver's connection from a standard `clouds.yaml` (the file the openstack CLI and SDKs
 * read), so an operator reuses the file they already have: one named cloud with Keystone v3 password or
 * application-credential auth, region and interface. Secrets stay in that file (mode 0600), never in
 * the agent config; no message here ever carries a value from the file, only file, cloud and key names.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { FoundryError, errorMessage } from '../../../common/errors.js';
import type { OpenStackCredentials } from './keystone.js';

/** Where the openstack CLI looks first for system-wide clouds. */
export const DEFAULT_CLOUDS_FILE = '/etc/openstack/clouds.yaml';

/** One cloud, ready for OpenStackDriverOptions. */
export interface CloudConnection {
  authUrl: string;
  credentials: OpenStackCredentials;
  region: string | undefined;
  interface: 'public' | 'internal' | 'admin' | undefined;
  /** Things the operator should fix that do not stop the driver (e.g. a world-readable file). */
  warnings: string[];
}

const PASSWORD_TYPES = new Set(['password', 'v3password']);
const APP_CRED_TYPES = new Set(['v3applicationcredential', 'application_credential', 'applicationcredential']);
const INTERFACES = new Set(['public', 'internal', 'admin']);

/** Reads `cloud` from the clouds.yaml at `file`. Throws CONFIG_INVALID naming the file, cloud and key; never a value. */
export function loadCloud(file: string, cloud: string): CloudConnection {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (err) {
    throw invalid(file, `cannot read ${file}: ${errorMessage(err)}`);
  }
  const conn = parseCloud(text, file, cloud);
  if ((mode & 0o077) !== 0) conn.warnings.push(`${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); it holds OpenStack secrets: chmod 600 it`);
  return conn;
}

/** Parses clouds.yaml text (pure; `file` only names the source in errors). */
export function parseCloud(text: string, file: string, cloud: string): CloudConnection {
  // prettyErrors off: yaml's pretty errors quote the offending line, which may hold a password.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) throw invalid(file, `${file}: not valid YAML (${first.code.toLowerCase()} at offset ${first.pos[0]})`);
  const root = record(doc.toJS({ maxAliasCount: 100 }));
  const clouds = record(root?.clouds);
  if (clouds === undefined) throw invalid(file, `${file}: expected a top-level "clouds" mapping`);
  const c = record(clouds[cloud]);
  if (c === undefined) {
    const names = Object.keys(clouds).sort();
    throw invalid(file, `${file}: no cloud named "${cloud}" (has: ${names.length > 0 ? names.join(', ') : 'none'})`);
  }
  const where = `${file}: clouds.${cloud}`;
  const auth = record(c.auth);
  if (auth === undefined) throw invalid(file, `${where}: expected an "auth" mapping`);
  const s = (obj: Record<string, unknown>, key: string, path: string): string | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw invalid(file, `${where}.${path}${key}: expected a string`);
    return String(v);
  };
  const a = (key: string): string | undefined => s(auth, key, 'auth.');
  const authUrl = a('auth_url');
  if (authUrl === undefined) throw invalid(file, `${where}.auth.auth_url: required`);
  if (!/^https?:\/\//.test(authUrl)) throw invalid(file, `${where}.auth.auth_url: expected an http(s) URL`);
  const version = s(c, 'identity_api_version', '');
  if (version !== undefined && version !== '3') throw invalid(file, `${where}.identity_api_version: only Keystone v3 is supported`);

  const authType = (s(c, 'auth_type', '') ?? (a('application_credential_secret') !== undefined ? 'v3applicationcredential' : 'password')).toLowerCase();
  let credentials: OpenStackCredentials;
  if (APP_CRED_TYPES.has(authType)) {
    const secret = a('application_credential_secret');
    if (secret === undefined) throw invalid(file, `${where}.auth.application_credential_secret: required for auth_type ${authType}`);
    const id = a('application_credential_id');
    const name = a('application_credential_name');
    if (id === undefined && name === undefined) throw invalid(file, `${where}.auth: application_credential_id or application_credential_name is required`);
    if (id === undefined && a('username') === undefined && a('user_id') === undefined) throw invalid(file, `${where}.auth: a credential given by name needs username or user_id`);
    credentials = { type: 'application_credential', secret, ...defined({ id, name, username: a('username'), userId: a('user_id'), userDomainName: a('user_domain_name') }) };
  } else if (PASSWORD_TYPES.has(authType)) {
    const password = a('password');
    if (password === undefined) throw invalid(file, `${where}.auth.password: required for auth_type ${authType}`);
    if (a('username') === undefined && a('user_id') === undefined) throw invalid(file, `${where}.auth: username or user_id is required`);
    if (a('project_id') === undefined && a('project_name') === undefined) throw invalid(file, `${where}.auth: project_id or project_name is required (the servers live in a project)`);
    credentials = {
      type: 'password',
      password,
      ...defined({
        username: a('username'),
        userId: a('user_id'),
        userDomainName: a('user_domain_name') ?? a('domain_name'),
        userDomainId: a('user_domain_id') ?? a('domain_id'),
        projectId: a('project_id'),
        projectName: a('project_name'),
        projectDomainName: a('project_domain_name') ?? a('domain_name'),
        projectDomainId: a('project_domain_id') ?? a('domain_id'),
      }),
    };
  } else {
    throw invalid(file, `${where}.auth_type: "${authType}" is not supported (use password or v3applicationcredential)`);
  }
  const iface = s(c, 'interface', '') ?? s(c, 'endpoint_type', '');
  if (iface !== undefined && !INTERFACES.has(iface)) throw invalid(file, `${where}.interface: expected public, internal or admin`);
  return { authUrl: withV3(authUrl), credentials, region: s(c, 'region_name', ''), interface: iface as CloudConnection['interface'], warnings: [] };
}

/** clouds.yaml commonly gives the Keystone root (…:5000 or …/identity); the session wants the v3 URL. */
function withV3(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function defined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

function invalid(file: string, message: string): FoundryError {
  return new FoundryError('CONFIG_INVALID', message, { resource: file });
}
