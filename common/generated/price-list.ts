// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Prices for pay-as-you-go billing, in periods with effective dates.
 */
export interface PriceList {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "PriceList";
  metadata: Metadata;
  /**
   * Price list settings.
   */
  spec: {
    /**
     * ISO 4217 currency code, e.g. EUR.
     */
    currency: string;
    /**
     * Billing increment: 1s (default) or e.g. 1m; each session is rounded up to it.
     */
    increment?: string;
    /**
     * Least time billed per session (default 0s).
     */
    minimumCharge?: string;
    /**
     * Price periods. Each applies from effectiveFrom until the next period starts.
     *
     * @minItems 1
     */
    periods: [
      {
        /**
         * UTC instant the prices take effect, e.g. 2026-01-01T00:00:00Z.
         */
        effectiveFrom: string;
        /**
         * Price of one GPU-hour by GPU model, as a decimal string in the currency (at most 6 decimals), e.g. "2.49".
         */
        gpuHour: {
          /**
           * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
           */
          [k: string]: string;
        };
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        vcpuHour?: string;
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        memoryGiBHour?: string;
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        storageGiBMonth?: string;
      },
      ...{
        /**
         * UTC instant the prices take effect, e.g. 2026-01-01T00:00:00Z.
         */
        effectiveFrom: string;
        /**
         * Price of one GPU-hour by GPU model, as a decimal string in the currency (at most 6 decimals), e.g. "2.49".
         */
        gpuHour: {
          /**
           * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
           */
          [k: string]: string;
        };
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        vcpuHour?: string;
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        memoryGiBHour?: string;
        /**
         * A price as a decimal string in the currency's units with at most 6 decimals, e.g. "2.49" (a string, so no floating point ever touches money).
         */
        storageGiBMonth?: string;
      }[]
    ];
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
