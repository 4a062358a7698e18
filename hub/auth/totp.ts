/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s) with otpauth; the otpauth:// URI and its QR code
 * (SVG, rendered on the hub so no third party sees the secret). A code is accepted once: the step it
 * matched must be later than the last accepted one, so a code seen over a shoulder cannot be replayed.
 */
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';

/** Issuer shown in authenticator apps. */
export const TOTP_ISSUER = 'FoundryCloud';
const PERIOD = 30;

function totp(secretBase32: string, label = 'user'): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: TOTP_ISSUER, label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

/** A new random TOTP secret (160 bits, base32). */
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/** The otpauth:// URI of a user's secret. */
export function totpUri(secretBase32: string, user: string): string {
  return totp(secretBase32, user).toString();
}

/** The QR code of `uri` as an SVG document. */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * Checks a 6-digit code against the secret at `now` (±1 step for clock drift). Returns the matched time
 * step, or undefined when wrong or not newer than `lastStep` (a replay).
 */
export function checkTotp(secretBase32: string, code: string, now: number, lastStep = 0): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / PERIOD) + delta;
  return step > lastStep ? step : undefined;
}

/** The current code (for tests and the CLI's self-check). */
export function totpCode(secretBase32: string, now: number): string {
  return totp(secretBase32).generate({ timestamp: now });
}
