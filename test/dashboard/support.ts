/** Test support for the dashboard: users created in the store, a full login (password, TOTP setup) over HTTP. */
import * as OTPAuth from 'otpauth';
import { createUser } from '../../hub/auth/users.js';
import type { HubStore } from '../../hub/store/hub-store.js';

/** A logged-in HTTP client. */
export interface Session {
  cookie: string;
  csrf: string;
  secret: string;
  recoveryCodes: string[];
}

/** The TOTP code of `secret` at `at` (epoch ms). */
export function code(secret: string, at = Date.now()): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp: at });
}

/** The base32 secret of an otpauth:// URI. */
export function secretOf(uri: string): string {
  return new URL(uri).searchParams.get('secret') ?? '';
}

/** Creates a user with a one-time password. */
export async function addUser(store: HubStore, name: string, role: 'admin' | 'tenant', tenant?: string, password = 'one-time-password-1'): Promise<string> {
  await createUser(store.users, { name, role, tenant }, password, new Date());
  return password;
}

/** POSTs JSON; returns status, body and headers. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: r.headers };
}

/** First login of a new user: password, setup with a new password and the TOTP code; returns the session. */
export async function firstLogin(base: string, user: string, password: string, newPassword: string, at = Date.now()): Promise<Session> {
  const login = await post(`${base}/api/v1/auth/login`, { user, password });
  if (login.body.next !== 'setup') throw new Error(`expected setup, got ${JSON.stringify(login.body)}`);
  const secret = secretOf(String(login.body.otpauthUri));
  const setup = await post(`${base}/api/v1/auth/setup`, { ticket: login.body.ticket, newPassword, code: code(secret, at) });
  if (setup.status !== 200) throw new Error(`setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
  const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, csrf: String(setup.body.csrfToken), secret, recoveryCodes: setup.body.recoveryCodes as string[] };
}
