/**
 * Apache Guacamole's encrypted-JSON authentication (guacamole-auth-json), in the format Apache documents:
 * HMAC-SHA256 of the JSON with the shared 128-bit key, the signature prepended to the JSON, AES-128-CBC
 * with the same key and an all-zero IV (PKCS#7 padding), base64. node:crypto does the HMAC and the AES.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { FoundryError } from '../../common/errors.js';

/** One Guacamole connection of the JSON (protocol and its parameters, all strings). */
export interface GuacamoleConnection {
  protocol: 'vnc' | 'rdp' | 'ssh';
  parameters: Record<string, string>;
}

/** The JSON guacamole-auth-json accepts: the user, when the data stops being accepted, its connections. */
export interface GuacamoleAuthJson {
  username: string;
  /** Epoch milliseconds after which Guacamole refuses the data. */
  expires: number;
  connections: Record<string, GuacamoleConnection>;
}

/** The 16-byte key from its 32-hex-digit form (json-secret-key in guacamole.properties); throws GUACAMOLE_KEY naming `source`, never the value. */
export function parseGuacamoleKey(hex: string, source: string): Buffer {
  const k = hex.trim();
  if (!/^[0-9a-fA-F]{32}$/.test(k)) throw new FoundryError('GUACAMOLE_KEY', `${source}: the guacamole key must be 32 hexadecimal digits (128 bits)`, { resource: source });
  return Buffer.from(k, 'hex');
}

/** Signs and encrypts `json` for guacamole-auth-json; returns the base64 data. */
export function signAndEncrypt(json: string, key: Buffer): string {
  if (key.length !== 16) throw new FoundryError('GUACAMOLE_KEY', 'the guacamole key must be 128 bits');
  const body = Buffer.from(json, 'utf8');
  const signature = createHmac('sha256', key).update(body).digest();
  const cipher = createCipheriv('aes-128-cbc', key, Buffer.alloc(16, 0));
  return Buffer.concat([cipher.update(Buffer.concat([signature, body])), cipher.final()]).toString('base64');
}
