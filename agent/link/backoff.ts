/**
 * Reconnect delays: jittered exponential backoff, about 1 s at first, ×1.6 per failed attempt, capped
 * near 2 min, each delay ±20 % so that agents cut off together do not come back together.
 */

/** Backoff parameters. */
export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Relative jitter: 0.2 means each delay is drawn from [0.8, 1.2] × the base. */
  jitter: number;
}

/** The default policy: 1 s, ×1.6, cap 2 min, ±20 %. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 1.6, maxMs: 120_000, jitter: 0.2 };

/** Delay before reconnect attempt `attempt` (0 for the first retry); `random()` returns [0, 1). */
export function backoffDelay(attempt: number, random: () => number = Math.random, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return Math.round(base * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/** Counts failed attempts; `next()` gives the next delay, `reset()` after a connection succeeded. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly random: () => number = Math.random,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  /** The delay before the next attempt; counts the attempt. */
  next(): number {
    return backoffDelay(this.attempt++, this.random, this.policy);
  }

  /** Starts over at the initial delay. */
  reset(): void {
    this.attempt = 0;
  }
}
