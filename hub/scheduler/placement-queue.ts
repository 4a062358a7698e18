/**
 * The one placement queue all placements go through: a single queue, so concurrent requests are decided one at
 * a time against a state that already holds every earlier placement; no GPU is handed out twice.
 * The hub injects `load` (read the fleet snapshot) and `commit` (write the placement to Git and push);
 * a commit that fails with PLACEMENT_CONFLICT (someone pushed first) makes the queue re-read the
 * snapshot, decide again and retry.
 */
import { FoundryError, isFoundryError } from '../../common/errors.js';
import type { NoPlacement, Placement, PlaceOptions, PlacementRequest } from './place.js';
import { place } from './place.js';
import type { FleetSnapshot } from './snapshot.js';
import { FleetState } from './snapshot.js';

/** Collaborators of the PlacementQueue. */
export interface PlacementQueueDeps {
  /** Reads the current fleet snapshot (Git + live inventory). */
  load: () => Promise<FleetSnapshot>;
  /** Makes a placement durable (commit + push). Throw FoundryError PLACEMENT_CONFLICT to have it re-planned. */
  commit?: (placement: Placement) => Promise<void>;
  options?: PlaceOptions;
  /** Tries per request before giving up on conflicts (default 5). */
  maxAttempts?: number;
}

/** Serializes placement decisions and commits. */
export class PlacementQueue {
  private state: FleetState | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PlacementQueueDeps) {}

  /** Places a workspace; resolves with the committed placement or the explained refusal. */
  request(req: PlacementRequest): Promise<Placement | NoPlacement> {
    return this.serial(() => this.decide(req));
  }

  /** Frees a workspace's resources in the queue's state (after its deletion was committed). */
  release(workspace: string): Promise<void> {
    return this.serial(async () => {
      this.state?.release(workspace);
    });
  }

  /** Drops the cached state: the next request re-reads the snapshot (after an admin's push, say). */
  refresh(): Promise<void> {
    return this.serial(async () => {
      this.state = undefined;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async decide(req: PlacementRequest): Promise<Placement | NoPlacement> {
    const attempts = this.deps.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      this.state ??= new FleetState(await this.deps.load());
      const result = place(req, this.state, this.deps.options);
      if (!result.ok || result.existing) return result;
      try {
        await this.deps.commit?.(result);
      } catch (err) {
        // whatever happened, our state may be stale: read it again next time
        this.state = undefined;
        if (!isFoundryError(err, 'PLACEMENT_CONFLICT')) throw err;
        if (attempt >= attempts) {
          throw new FoundryError('PLACEMENT_CONFLICT', `placement of ${req.workspace} still conflicted after ${attempts} attempts`, { resource: req.workspace, cause: err });
        }
        continue;
      }
      this.state.apply(result);
      return result;
    }
  }
}
