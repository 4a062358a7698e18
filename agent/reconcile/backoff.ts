/**
 * Per-resource exponential back-off: a resource whose action failed is retried after base, 2×base,
 * 4×base ... up to max (±10% jitter), so one broken resource neither blocks the others nor hammers the
 * runtime. A new spec for the resource (a new revision) resets its back-off.
 */

/** The back-off state of one resource. */
export interface BackoffEntry {
  failures: number;
  /** Epoch ms before which the resource is not retried. */
  nextAttemptAt: number;
  /** Spec hash the failures were for; a different one starts over. */
  specHash: string | undefined;
  /** The last error, kept for status while backing off. */
  lastError: { code: string; message: string; retry: string };
}

/** Options: delays in ms, a clock and a random source (both injectable for tests). */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  now?: () => number;
  random?: () => number;
}

/** Tracks failures by resource id. */
export class Backoff {
  private readonly entries = new Map<string, BackoffEntry>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The entry of `id` if it is still waiting for `specHash` (a new spec clears it). */
  waiting(id: string, specHash: string | undefined): BackoffEntry | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    if (e.specHash !== specHash) {
      this.entries.delete(id);
      return undefined;
    }
    return e.nextAttemptAt > this.now() ? e : undefined;
  }

  /** Records a failure and returns the new entry with its next attempt time. */
  fail(id: string, specHash: string | undefined, lastError: BackoffEntry['lastError']): BackoffEntry {
    const prev = this.entries.get(id);
    const failures = prev !== undefined && prev.specHash === specHash ? prev.failures + 1 : 1;
    const exp = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (failures - 1));
    const jitter = 1 + (this.random() * 0.2 - 0.1);
    const entry = { failures, nextAttemptAt: this.now() + Math.round(exp * jitter), specHash, lastError };
    this.entries.set(id, entry);
    return entry;
  }

  /** Forgets `id` after a success. */
  succeed(id: string): void {
    this.entries.delete(id);
  }

  /** Forgets everything but `ids` (resources that no longer exist anywhere). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }

  /** Current failure count of `id` (0 when none). */
  failures(id: string): number {
    return this.entries.get(id)?.failures ?? 0;
  }
}
