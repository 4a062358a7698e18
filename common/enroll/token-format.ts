/**
 * Join token format: `fjt_<secret>.<pin>.<hub>`. `secret` is 32 random bytes (base64url); `pin` is the
 * base64url SHA-256 of the hub certificate's public key (SubjectPublicKeyInfo, what curl's
 * --pinnedpubkey checks), empty without TLS; `hub` is the base64url hub URL, empty when unknown. Only
 * `fjt_<secret>` authenticates (its hash is stored); pin and hub only tell the node whom to trust and call.
 * Pure; used by the hub (create), `foundry agent enroll` and mirrored by install.sh.
 */
import { randomBytes } from 'node:crypto';
import { FoundryError } from '../errors.js';

/** Defaults and limits of join tokens (the CLI and the HTTP API share them). */
export const TOKEN_DEFAULTS = { ttl: '1h', maxTtlMs: 7 * 24 * 3600_000, uses: 1, profile: 'gpu-node' };

/** Prefix of join tokens. */
export const JOIN_TOKEN_PREFIX = 'fjt';

const SECRET = /^fjt_[A-Za-z0-9_-]{43}$/;
const PIN = /^[A-Za-z0-9_-]{43}$/;

/** A decoded join token. */
export interface JoinToken {
  /** The part that authenticates: `fjt_<43 chars>`. */
  secret: string;
  /** base64url SHA-256 of the hub certificate's SPKI, or undefined (hub without TLS). */
  pin: string | undefined;
  /** The hub URL the token was made for, or undefined. */
  hubUrl: string | undefined;
}

/** A fresh random secret part. */
export function newJoinSecret(): string {
  return `${JOIN_TOKEN_PREFIX}_${randomBytes(32).toString('base64url')}`;
}

/** Encodes a token for people to copy (one line, no characters a shell would interpret). */
export function encodeJoinToken(t: JoinToken): string {
  const hub = t.hubUrl === undefined ? '' : Buffer.from(t.hubUrl, 'utf8').toString('base64url');
  return `${t.secret}.${t.pin ?? ''}.${hub}`;
}

/** Decodes a token; a bare `fjt_<secret>` is accepted too. Throws JOIN_TOKEN on anything malformed (never echoing it). */
export function decodeJoinToken(text: string): JoinToken {
  const parts = text.trim().split('.');
  const [secret, pin, hub] = parts;
  if (parts.length > 3 || secret === undefined || !SECRET.test(secret)) throw new FoundryError('JOIN_TOKEN', 'malformed join token: expected fjt_<secret>.<pin>.<hub>');
  if (pin !== undefined && pin !== '' && !PIN.test(pin)) throw new FoundryError('JOIN_TOKEN', 'malformed join token: bad certificate pin');
  let hubUrl: string | undefined;
  if (hub !== undefined && hub !== '') {
    hubUrl = Buffer.from(hub, 'base64url').toString('utf8');
    if (!/^https?:\/\/[^\s]+$/.test(hubUrl)) throw new FoundryError('JOIN_TOKEN', 'malformed join token: bad hub url');
  }
  return { secret, pin: pin === '' ? undefined : pin, hubUrl };
}

/** The pin in curl's --pinnedpubkey form (`sha256//<base64>`). */
export function curlPin(pin: string): string {
  return `sha256//${Buffer.from(pin, 'base64url').toString('base64')}`;
}

/** The one-liner an admin runs on the new node (the API and `foundry hub token create` print it). */
export function installCommand(hubUrl: string | undefined, token: string, pin?: string): string {
  const base = hubUrl ?? 'https://HUB';
  // With a pin, curl checks the hub's key itself (-k only skips the CA chain, which a self-signed hub lacks).
  const tls = base.startsWith('https:') ? ` --proto =https${pin === undefined ? '' : ` -k --pinnedpubkey '${curlPin(pin)}'`}` : '';
  return `curl -fsSL${tls} ${base}/install.sh | sh -s -- --join ${token}${hubUrl === undefined ? ' --hub https://HUB' : ''}`;
}
