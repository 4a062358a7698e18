#!/usr/bin/env node
// Start-up cost of short commands as whole processes, side by side in one run (issue 22): wall time and
// peak RSS (/usr/bin/time) of `foundry validate fixtures/example-infra` beside `node -e 0` (the floor any
// Node.js command pays) and `foundry --version`. Targets: validate < 200 ms wall and < 60 MB peak RSS.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const foundry = join(root, 'bin', 'foundry.js');

/** Runs a command once under /usr/bin/time: wall ms and peak RSS in MB. */
function measure(args) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-300)}`);
  return { ms, rssMb: Number(r.stderr.trim().split('\n').at(-1)) / 1024 };
}

/** Interleaves the commands run by run, so load on the machine hits them alike. */
export async function run({ quick = false } = {}) {
  const runs = quick ? 3 : 15;
  const commands = [
    ['node -e 0 (floor)', ['-e', '0']],
    ['foundry --version', [foundry, '--version']],
    ['foundry validate fixtures/example-infra', [foundry, 'validate', 'fixtures/example-infra']],
  ];
  const seen = commands.map(() => ({ ms: [], rss: [] }));
  for (let i = 0; i < runs + 1; i++) {
    commands.forEach(([, args], c) => {
      const m = measure(args);
      if (i === 0) return; // warm the page cache first
      seen[c].ms.push(m.ms);
      seen[c].rss.push(m.rssMb);
    });
  }
  const floor = median(seen[0].ms);
  const rows = [];
  commands.forEach(([name], c) => {
    const ms = median(seen[c].ms);
    const rss = median(seen[c].rss);
    const isValidate = c === 2;
    rows.push({ figure: `${name}: wall`, median: ms, unit: 'ms', runs, target: isValidate ? '< 200 ms' : undefined, met: isValidate && !quick ? ms < 200 : undefined, peer: c === 0 ? undefined : 'node -e 0', peerMedian: c === 0 ? undefined : floor, ratio: c === 0 ? undefined : `${(ms / floor).toFixed(2)}×` });
    rows.push({ figure: `${name}: peak RSS`, median: rss, unit: 'MB', runs, target: isValidate ? '< 60 MB' : undefined, met: isValidate && !quick ? rss < 60 : undefined });
  });
  return {
    title: 'start-up of short commands (whole processes)',
    rows,
    notes: ['validate loads only its own area of the CLI and the standalone validators of the kinds it checks (one module per schema, scripts/gen-validators.mjs), reads armored secret headers without age-encryption (common/secrets/age-armor.ts), and runs with V8\'s optimizing compiler off and its young generation kept at its first size (short-lived commands, cli/foundry.ts); see docs/architecture.md, lean start-up'],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run({ quick: process.argv.includes('--quick') }), null, 2));
