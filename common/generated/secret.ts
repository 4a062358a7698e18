// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * An age-encrypted secret of the infra repo (by convention secrets/NAME.yaml next to secrets/NAME.age). This document is the plaintext sidecar: it says who can decrypt the file (an age X25519 stanza does not reveal its recipient). `foundry secret encrypt` and `reencrypt` write both; `foundry secret who` shows and checks them.
 */
export interface Secret {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "Secret";
  metadata: Metadata;
  /**
   * Where the ciphertext is and who it is encrypted to.
   */
  spec: {
    /**
     * The age file (ASCII-armored), relative to this document's folder (default NAME.age).
     */
    file?: string;
    /**
     * Everyone the file is encrypted to: nodes (by name, their spec.ageRecipient) and admins (from .foundry/admin-recipients).
     *
     * @maxItems 1024
     */
    recipients: {
      /**
       * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
       */
      node?: string;
      /**
       * The admin this recipient belongs to (the comment of its line in .foundry/admin-recipients).
       */
      admin?: string;
      /**
       * An age X25519 recipient (public key): age1 followed by 58 bech32 characters.
       */
      recipient: string;
    }[];
    /**
     * When the file was last encrypted (RFC 3339), written by foundry secret.
     */
    encryptedAt?: string;
  };
}
/**
 * Identity of the document.
 */
export interface Metadata {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  labels?: Labels;
  /**
   * Free-form notes for people and tools; never interpreted by FoundryCloud.
   */
  annotations?: {
    [k: string]: string;
  };
}
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels {
  [k: string]: string;
}
