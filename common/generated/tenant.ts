// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A customer: display name, GPU quota and the price list it is billed by.
 */
export interface Tenant {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "Tenant";
  metadata: Metadata;
  /**
   * Tenant settings.
   */
  spec: {
    /**
     * Name shown on invoices and in the dashboard.
     */
    displayName: string;
    /**
     * Billing contact e-mail.
     */
    contact?: string;
    /**
     * Limits enforced when workspaces are placed.
     */
    quota?: {
      /**
       * GPUs the tenant may hold at once across all its workspaces.
       */
      maxGpus?: number;
    };
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    priceList?: string;
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
