/** Exit codes of the foundry CLI, the same for every sub-command. */
export const EXIT = {
  /** Success: valid, converged, done. */
  OK: 0,
  /** The command ran and found a problem: invalid repo, not converged, refused. */
  FAILED: 1,
  /** Bad usage: unknown flag, missing argument, bad flag value. */
  USAGE: 2,
  /** Something the command needs is unavailable: a runtime, the hub, a repo that cannot be fetched. */
  UNAVAILABLE: 3,
  /** An unexpected internal error (a bug): report it. */
  INTERNAL: 70,
} as const;
