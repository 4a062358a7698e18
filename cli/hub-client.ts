/**
 * The CLI's client of the hub API: --hub URL (or FOUNDRY_HUB_URL), --token (or FOUNDRY_TOKEN, preferred:
 * a flag shows in the process list). The token goes only into the Authorization header, never into
 * output or errors.
 */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';

/** Options every hub-talking command takes. */
export interface HubClientOptions {
  hub?: string;
  token?: string;
}

/** Adds --hub and --token to a command. */
export function withHubOptions(cmd: Command): Command {
  return cmd.option('--hub <url>', 'hub URL (default: $FOUNDRY_HUB_URL or http://127.0.0.1:8080)').option('--token <token>', 'API or admin token (default: $FOUNDRY_TOKEN)');
}

/** An answer of the hub: status and parsed JSON (or text). */
export interface HubAnswer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

/** Calls the hub; throws FoundryError for an unreachable hub, 401/403 and (unless `accept` lists it) any non-2xx. */
export async function callHub(o: HubClientOptions, method: string, path: string, body?: unknown, accept: number[] = []): Promise<HubAnswer> {
  const base = (o.hub ?? process.env.FOUNDRY_HUB_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = o.token ?? process.env.FOUNDRY_TOKEN;
  if (token === undefined || token === '') throw new FoundryError('CLI_USAGE', 'a token is required: set FOUNDRY_TOKEN (or pass --token)');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new FoundryError('INTERNAL', `cannot reach the hub at ${base}`, { retry: 'transient', cause: err, resource: base });
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // CSV and other text answers
  }
  if (res.ok || accept.includes(res.status)) return { status: res.status, body: parsed, text };
  const message = typeof parsed.message === 'string' ? parsed.message : `http ${res.status}`;
  if (res.status === 401) throw new FoundryError('AUTH_REQUIRED', `the hub refused the token: ${message}`);
  if (res.status === 403) throw new FoundryError('AUTH_FORBIDDEN', message);
  if (res.status === 404) throw new FoundryError('NOT_FOUND', message);
  throw new FoundryError(res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message, { retry: res.status >= 500 ? 'transient' : 'terminal' });
}

/** Parses repeated key=value flags into an object. */
export function keyValues(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new FoundryError('CLI_USAGE', `${flag} expects key=value, got ${JSON.stringify(kv)}`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
