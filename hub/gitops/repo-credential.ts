/**
 * The hub's credential for an external infra repo (GitLab): read from a file or the environment, handed to
 * git as an HTTP header through git's environment-borne configuration (GIT_CONFIG_COUNT/KEY/VALUE), scoped
 * to the repo's URL. So it is never in a URL, in git's argv (visible in `ps`), in the clone's .git/config,
 * or in a log line.
 */
import { readFileSync } from 'node:fs';
import { FoundryError } from '../../common/errors.js';

/** Environment variable that may hold the credential (a file is preferred: --repo-credential-file). */
export const REPO_CREDENTIAL_ENV = 'FOUNDRY_HUB_REPO_CREDENTIAL';

/**
 * The credential from `file` (first line, trimmed) or else from `env[REPO_CREDENTIAL_ENV]`; undefined when
 * neither is given. Throws CLI_USAGE naming the file (never its content) when it cannot be read or is empty.
 */
export function readRepoCredential(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new FoundryError('CLI_USAGE', `--repo-credential-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { resource: file });
    }
    const line = text.split('\n')[0]?.trim() ?? '';
    if (line === '') throw new FoundryError('CLI_USAGE', `--repo-credential-file ${file}: the file is empty; expected USER:TOKEN or a bearer token on its first line`, { resource: file });
    return line;
  }
  const v = env[REPO_CREDENTIAL_ENV]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** Refuses a repo URL that carries a user or password: the credential belongs in the file or the environment. */
export function assertNoUrlCredential(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return; // scp-like or local paths carry no HTTP credential
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '';
    parsed.password = '';
    throw new FoundryError('CLI_USAGE', `--repo-url ${parsed.toString()}: remove the user and password from the URL; give the credential with --repo-credential-file or ${REPO_CREDENTIAL_ENV}`);
  }
}

/**
 * git environment that sends the credential to `url` only: `USER:TOKEN` as HTTP Basic (what GitLab takes
 * for access and deploy tokens), anything else as `Authorization: Bearer`. Empty without a credential.
 */
export function gitAuthEnv(url: string, credential: string | undefined): Record<string, string> {
  if (credential === undefined) return {};
  const header = credential.includes(':') ? `Basic ${Buffer.from(credential).toString('base64')}` : `Bearer ${credential}`;
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${url}.extraHeader`, GIT_CONFIG_VALUE_0: `Authorization: ${header}` };
}
