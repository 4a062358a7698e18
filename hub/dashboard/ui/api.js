// The dashboard's API client: same-origin fetch with the session cookie, the CSRF header on every
// state-changing request, JSON in and out, and errors as thrown ApiError with the server's message.

let csrf = null;

/** Sets the CSRF token of the session (from login or /auth/me). */
export function setCsrf(token) {
  csrf = token;
}

/** An API error: HTTP status, code and message from the hub. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `http ${status}`);
    this.status = status;
    this.code = body?.code;
    this.body = body;
  }
}

/** Calls the hub's API; resolves to the JSON body (or text for CSV). */
export async function api(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf !== null) headers['x-csrf-token'] = csrf;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const type = r.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, typeof data === 'object' ? data : { message: data });
  return data;
}
