/** Executable entry of the pre-receive hook (see pre-receive.ts); any failure refuses the push. */
import { main } from './pre-receive.js';

await main().catch((err: unknown) => {
  process.stderr.write(`foundry: push refused: validation could not run: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
// The answer is final: exit now, so a validation worker stopped at its deadline (possibly before it was
// even online, or with a git child still running) cannot keep the hook, and so the push, waiting.
process.exit();
