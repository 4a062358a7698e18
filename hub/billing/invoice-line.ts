/**
 * The invoice line, the one type rating produces (rate.ts for GPU time, rate-resources.ts for vCPU,
 * memory and storage), invoices sum and the store keeps; declared apart so both raters import it.
 */
import type { HeldResource } from './usage.js';

/** The unit each resource's quantity and unit price are in. */
export const PRICE_UNIT = { gpu: 'GPU-hour', vcpu: 'vCPU-hour', memory: 'GiB-hour', storage: 'GiB-month' } as const;

/** What a line bills: GPU time, or one of the resources a running workspace holds besides GPUs. */
export type BilledResource = 'gpu' | HeldResource;

/** One invoice line. */
export interface InvoiceLine {
  tenant: string;
  /** Invoice month, "YYYY-MM" (UTC). */
  month: string;
  workspace: string;
  resource: BilledResource;
  /** GPU model of a gpu line; '' for the other resources. */
  gpuModel: string;
  priceList: string;
  currency: string;
  /** Start of the price period the seconds were used in, UTC, normalized ("2026-03-15T12:00:00Z"). */
  periodFrom: string;
  /** True for time from a closed month moved to this one. */
  late: boolean;
  /** gpu: billed GPU-seconds (after increment and minimum charge), the exact quantity. Other resources: billed seconds held. */
  seconds: number;
  /** gpu: seconds / 3600 with 6 decimals (display); "0.000000" for the other resources. */
  gpuHours: string;
  /** Billed quantity in `unit`, 6 decimals (display): GPU-hours, vCPU-hours, GiB-hours or GiB-months. */
  quantity: string;
  unit: (typeof PRICE_UNIT)[BilledResource];
  /** Price of one `unit` in micro-units, and as written. */
  unitPriceMicros: bigint;
  unitPrice: string;
  /** Exact quantity × unit price, rounded half up once to the minor unit. */
  amountMinor: bigint;
  amount: string;
  /** Time-weighted mean measured GPU utilization (percent) of the records that carried one; never billed. */
  utilization?: number;
  /** Set when the time could not be priced (why): amount 0, unitPrice "", shown so an admin adds the price. */
  unpriced?: string;
}
