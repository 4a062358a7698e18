/**
 * One JSON request to an OpenStack API with global fetch and a timeout. Transport failures become
 * OPENSTACK_REQUEST errors that name the method and path, never headers (tokens) or bodies (passwords).
 */
import { FoundryError } from '../../../common/errors.js';
import type { Redactor } from './redact.js';

/** The fetch function (global fetch by default; tests may wrap it). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A request to send. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What came back: status, headers and the parsed JSON body (undefined when empty or not JSON). */
export interface ApiResponse {
  status: number;
  headers: Headers;
  json: unknown;
  text: string;
}

/** Sends one request; rejects only on transport failure or timeout (HTTP errors are returned). */
export async function sendJson(fetchImpl: FetchLike, req: ApiRequest, timeoutMs: number, redactor: Redactor, resource: string): Promise<ApiResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['Content-Type'] = 'application/json';
  const what = `${req.method} ${pathOf(req.url)}`;
  let res: Response;
  try {
    res = await fetchImpl(req.url, {
      method: req.method,
      headers,
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const why = timedOut ? `no answer within ${timeoutMs} ms` : redactor.scrub(causeMessage(err));
    throw new FoundryError('OPENSTACK_REQUEST', `${what} failed: ${why}`, { resource, details: { method: req.method, path: pathOf(req.url) } });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The path of a URL, for messages (no host credentials, no query). */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}

function causeMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
