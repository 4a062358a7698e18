/**
 * The invoice line, the one type rating produces (rate.ts for GPU time, rate-resources.ts for vCPU,
 * memory and storage), invoices sum and the store keeps, and the one accumulator both raters build
 * lines with (LineAccumulator): time adds up per line, and each line is priced and rounded once.
 */
import { amountMinorOf, formatMicros, formatMinor, quantityOf } from './money.js';
import type { HeldResource } from './usage.js';

/** The unit each resource's quantity and unit price are in. */
export const PRICE_UNIT = { gpu: 'GPU-hour', vcpu: 'vCPU-hour', memory: 'GiB-hour', storage: 'GiB-month' } as const;

/** What a line bills: GPU time, or one of the resources a running workspace holds besides GPUs. */
export type BilledResource = 'gpu' | HeldResource;

/** Seconds in the month of a GiB-month: 30 days, whatever the calendar month's length. */
export const STORAGE_MONTH_SECONDS = 2_592_000;

const GIB = 1n << 30n;

/**
 * Quantity × seconds that make one priced unit: GPU-seconds per GPU-hour, milli-vCPU-seconds per
 * vCPU-hour, byte-seconds per GiB-hour and per GiB-month.
 */
export const UNITS_PER_PRICE_UNIT: Readonly<Record<BilledResource, bigint>> = {
  gpu: 3600n,
  vcpu: 1000n * 3600n,
  memory: GIB * 3600n,
  storage: GIB * BigInt(STORAGE_MONTH_SECONDS),
};

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

/** What a line is for, fixed when rating opens it: everything but what it adds up. */
export type LineHead = Pick<InvoiceLine, 'tenant' | 'month' | 'workspace' | 'resource' | 'gpuModel' | 'priceList' | 'currency' | 'periodFrom' | 'late' | 'unitPriceMicros' | 'unpriced'>;

/** A line being rated: its head and the sums finishing turns into quantity, amount and utilization. */
export interface OpenLine {
  head: LineHead;
  /** Billed seconds. */
  seconds: number;
  /** Σ quantity × seconds in the resource's base unit (UNITS_PER_PRICE_UNIT): GPU-, milli-vCPU- or byte-seconds. */
  units: bigint;
  /** Σ measured utilization × seconds, and the seconds that carried one (GPU lines only). */
  utilSum: number;
  utilSec: number;
}

/** Key of the line billing `resource` (of GPU model `h.gpuModel` for GPU time) for `h` in price period `period` (-1: before the first). */
export function lineKey(resource: BilledResource, h: Pick<LineHead, 'tenant' | 'month' | 'workspace' | 'late'> & { gpuModel?: string }, period: number): string {
  return `${h.tenant}\u0000${h.month}\u0000${h.workspace}\u0000${resource}\u0000${h.gpuModel ?? ''}\u0000${period}\u0000${h.late ? 1 : 0}`;
}

/**
 * The lines of one rating while time is added: one per lineKey. Amounts stay exact (units × unit price)
 * until finish() rounds each line once; unpriced lines keep their time and bill 0.
 */
export class LineAccumulator {
  private readonly open = new Map<string, OpenLine>();

  /** The open line under `key`, if time was added to it. */
  get(key: string): OpenLine | undefined {
    return this.open.get(key);
  }

  /** Adds `seconds` holding `quantity` (in the resource's base unit; 1n for a GPU) to the line under `key`, opened with head() the first time. */
  add(key: string, seconds: number, quantity: bigint, head: () => LineHead): void {
    let line = this.open.get(key);
    if (line === undefined) {
      line = { head: head(), seconds: 0, units: 0n, utilSum: 0, utilSec: 0 };
      this.open.set(key, line);
    }
    line.seconds += seconds;
    line.units += quantity * BigInt(seconds);
  }

  /** The finished lines, in the order they were opened. */
  finish(): InvoiceLine[] {
    return [...this.open.values()].map(finishLine);
  }
}

/** Prices and rounds one line: quantity and amount from its units, utilization from its weighted sum. */
function finishLine(l: OpenLine): InvoiceLine {
  const h = l.head;
  const per = UNITS_PER_PRICE_UNIT[h.resource];
  const priced = h.unpriced === undefined;
  const minor = priced ? amountMinorOf(l.units, h.unitPriceMicros, per, h.currency) : 0n;
  const quantity = quantityOf(l.units, per);
  const line: InvoiceLine = {
    tenant: h.tenant, month: h.month, workspace: h.workspace, resource: h.resource, gpuModel: h.gpuModel, priceList: h.priceList, currency: h.currency,
    periodFrom: h.periodFrom, late: h.late, seconds: l.seconds, gpuHours: h.resource === 'gpu' ? quantity : '0.000000', quantity, unit: PRICE_UNIT[h.resource],
    unitPriceMicros: h.unitPriceMicros, unitPrice: priced ? formatMicros(h.unitPriceMicros, h.currency) : '', amountMinor: minor, amount: formatMinor(minor, h.currency),
  };
  if (!priced) line.unpriced = h.unpriced;
  if (l.utilSec > 0) line.utilization = Math.round((l.utilSum / l.utilSec) * 10) / 10;
  return line;
}
