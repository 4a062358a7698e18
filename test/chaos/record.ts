/**
 * What a reliability scenario tells the report: what it tried and what happened, attached to the test's
 * meta (the reliability reporter turns it into a row of docs/reliability.md).
 */
import type { TestContext } from 'vitest';

declare module '@vitest/runner' {
  interface TaskMeta {
    scenario?: string;
    tried?: string;
    happened?: string[];
  }
}

/** Sets the scenario name and what the test tries (call first, so a failing test still says it). */
export function tried(ctx: TestContext, scenario: string, what: string): void {
  ctx.task.meta.scenario = scenario;
  ctx.task.meta.tried = what;
  ctx.task.meta.happened = [];
}

/** Adds one observed fact (a count, an outcome) to the test's row. */
export function happened(ctx: TestContext, fact: string): void {
  (ctx.task.meta.happened ??= []).push(fact);
}
