// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Best-effort GPU and host samples (not in the outbox; lost samples are acceptable).
 */
export interface TelemetryMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "telemetry";
  /**
   * Sender-chosen message id, echoed in errors about this message.
   */
  id: string;
  /**
   * When the sender created the message (RFC 3339).
   */
  ts: string;
  body: {
    /**
     * Name of the sending node; must be the node the credential belongs to.
     */
    node: string;
    /**
     * Sample time, epoch milliseconds.
     */
    at: number;
    /**
     * @maxItems 64
     */
    gpus: {
      uuid: string;
      utilizationGpuPct: number | null;
      utilizationMemoryPct?: number | null;
      memoryUsedMiB: number | null;
      memoryTotalMiB: number | null;
      powerDrawW?: number | null;
      temperatureC?: number | null;
      /**
       * GPU model as nvidia-smi names it (optional: older agents do not send it).
       */
      model?: string | null;
      /**
       * Workspace holding the GPU now: the declared allocation, else the one its processes belong to; null when none (optional).
       */
      workspace?: string | null;
      /**
       * Tenant of that workspace; null when none or unknown (optional).
       */
      tenant?: string | null;
      /**
       * The agent's classification of the GPU's health from nvidia-smi (docs/gpu-health.md). Optional: older agents do not send it, and the hub then treats the GPU's health as unknown (placeable).
       */
      health?: {
        /**
         * unhealthy: never offered to new workspaces; degraded: placeable, shown and exported.
         */
        state: "healthy" | "degraded" | "unhealthy";
        /**
         * Problem codes such as ecc_uncorrected, row_remap_pending, fallen_off_bus, thermal_throttle (a short enum; a hub shows codes it does not know as they are).
         *
         * @maxItems 32
         */
        problems: string[];
      };
    }[];
    host: {
      cpuPct: number | null;
      memUsedBytes: number | null;
      memTotalBytes: number | null;
      load1?: number | null;
    };
    /**
     * Storage capacity, sent by nodes whose profile reports storage (Ceph nodes). Source ceph: cluster-wide totals from `ceph df` (every Ceph node sees the same cluster); mounts: the node's own mount points (the fallback).
     */
    storage?: {
      source: "ceph" | "mounts";
      totalBytes: number;
      usedBytes: number;
      availableBytes: number;
      /**
       * @maxItems 64
       */
      pools?: {
        name: string;
        storedBytes: number | null;
        maxAvailableBytes: number | null;
      }[];
      /**
       * Why ceph df could not be used (the mounts fallback was reported instead).
       */
      error?: string;
    };
  };
}
