/**
 * Login rate limiting: failed attempts counted in a sliding window per account+IP and per IP. Once a key
 * reaches its limit, logins from it are refused (even with the right password) until the oldest failure
 * leaves the window. Success clears the account+IP key. In memory: a restarted hub forgets, which only
 * ever helps a user, and scrypt already makes each guess cost 50 ms.
 */

/** Limits of the login limiter. */
export interface LoginLimits {
  windowMs: number;
  perAccountIp: number;
  perIp: number;
}

/** Defaults: 5 failures per account and address, 50 per address, within 15 minutes. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perAccountIp: 5, perIp: 50 };

/** Counts login failures; `check` says how long a key must wait. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const t = this.now();
    const xs = (this.failures.get(key) ?? []).filter((x) => t - x < this.limits.windowMs);
    if (xs.length === 0) this.failures.delete(key);
    else this.failures.set(key, xs);
    return xs;
  }

  private waitMs(key: string, limit: number): number {
    const xs = this.recent(key);
    return xs.length < limit ? 0 : (xs[xs.length - limit] as number) + this.limits.windowMs - this.now();
  }

  /** Milliseconds until `user` may try again from `ip` (0: now). */
  check(user: string, ip: string): number {
    return Math.max(this.waitMs(`u:${user}\n${ip}`, this.limits.perAccountIp), this.waitMs(`ip:${ip}`, this.limits.perIp));
  }

  /** Records a failure of `user` from `ip`. */
  fail(user: string, ip: string): void {
    const t = this.now();
    for (const key of [`u:${user}\n${ip}`, `ip:${ip}`]) this.failures.set(key, [...this.recent(key), t]);
    if (this.failures.size > 100_000) this.failures.clear(); // a flood of distinct keys must not exhaust memory
  }

  /** Clears the account+IP failures after a successful login. */
  succeed(user: string, ip: string): void {
    this.failures.delete(`u:${user}\n${ip}`);
  }
}
