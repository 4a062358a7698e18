/**
 * Keeps credentials and tokens out of every message the OpenStack driver produces: each secret the
 * driver learns (password, application credential secret, issued tokens) is registered here, and every
 * text that leaves the driver (errors, logs) passes through scrub().
 */

/** Replacement text for a secret. */
export const REDACTED = '[redacted]';

/** A set of secret values to scrub from text. */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Registers a secret (ignored when shorter than 4 characters, which would scrub ordinary words). */
  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= 4) this.#secrets.add(secret);
  }

  /** `text` with every registered secret replaced by [redacted]. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join(REDACTED);
    return out;
  }
}
