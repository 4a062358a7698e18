#!/usr/bin/env node
// A real agent process for the chaos test: a HubLink (from dist/) producing usage records (and now and
// then a status transition) as fast as a busy node would, until SIGUSR1 tells it to stop producing and
// just drain its outbox. Each produced record is logged as "seq token" after enqueue returned.
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { HubLink } from '../../dist/agent/link/hub-link.js';

const { HUB_URL, NODE, CRED, STATE_DIR, PRODUCED_LOG } = process.env;
const link = new HubLink({ hubUrl: HUB_URL, node: NODE, credential: CRED, stateDir: STATE_DIR, maxInFlight: 200 }).start();
let n = 0;
const timer = setInterval(() => {
  for (let i = 0; i < 2; i++) {
    n += 1;
    if (n % 50 === 0) {
      const seq = link.sendStatus({ conditions: [{ type: 'Ready', status: n % 100 === 0 ? 'True' : 'False', reason: 'Chaos' }], resources: [] });
      appendFileSync(PRODUCED_LOG, `${seq} status\n`);
    } else {
      const token = randomUUID();
      const seq = link.enqueueUsage({ token, workspace: 'chaos', gpus: 1, seconds: 1 });
      appendFileSync(PRODUCED_LOG, `${seq} ${token}\n`);
    }
  }
}, 5);
process.on('SIGUSR1', () => clearInterval(timer));
// Tell the test the handlers are installed: SIGUSR1 before this point would kill the process.
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  clearInterval(timer);
  void link.close().then(() => process.exit(0));
});
