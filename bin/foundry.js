#!/usr/bin/env node
// Entry point of the foundry CLI. The TypeScript sources are built into dist/ by `npm run build`
// (run automatically by `npm ci`, `npm start` and `npm test`).
import { main } from '../dist/cli/foundry.js';

await main(process.argv);
