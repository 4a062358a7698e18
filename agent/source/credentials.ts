/**
 * Credentials of an infra repo URL: taken out of the URL (so git never stores or prints them) and
 * handed to git as an Authorization header through the environment; everything shown is redacted.
 */

/** A repo location without credentials, plus the header that carries them (if any). */
export interface SplitUrl {
  /** URL (or local path) without user info. */
  url: string;
  /** Authorization header value, e.g. "Basic dXNlcjp0b2tlbg==", when the URL or options carried credentials. */
  authorization: string | undefined;
  /** Every secret string that must never be shown. */
  secrets: string[];
}

/** True for URLs git treats as remote (scheme://... or user@host:path); anything else is a local path. */
export function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/\s]+@[^/\s:]+:/.test(url);
}

/** Removes user:password from an http(s) URL and turns it into a Basic Authorization header; `authHeader` wins when given. */
export function splitCredentials(raw: string, authHeader?: string): SplitUrl {
  const secrets: string[] = [];
  let url = raw;
  let authorization = authHeader;
  if (authHeader !== undefined) secrets.push(authHeader, authHeader.replace(/^\S+\s+/, ''));
  const m = /^(https?:\/\/)([^/@]*)@(.*)$/i.exec(raw);
  if (m !== null) {
    const userInfo = m[2]!;
    url = `${m[1]}${m[3]}`;
    const [rawUser, rawPassword] = splitOnce(userInfo, ':');
    const user = decodeURIComponent(rawUser);
    const password = rawPassword === undefined ? undefined : decodeURIComponent(rawPassword);
    const basic = Buffer.from(`${user}:${password ?? ''}`).toString('base64');
    authorization ??= `Basic ${basic}`;
    secrets.push(userInfo, basic, ...[user, password].filter((s): s is string => s !== undefined && s.length >= 4));
  }
  return { url, authorization, secrets: secrets.filter((s) => s.length > 0) };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Replaces every secret and any user info in URLs with "***". */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out.replace(/(authorization:\s*)\S+(\s+\S+)?/gi, '$1***');
}
