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
    }[];
    host: {
      cpuPct: number | null;
      memUsedBytes: number | null;
      memTotalBytes: number | null;
      load1?: number | null;
    };
  };
}
