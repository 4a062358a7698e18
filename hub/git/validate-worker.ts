/** Worker-thread entry of the pre-receive validation: validates workerData's revision and posts its issues and warnings. */
import { parentPort, workerData } from 'node:worker_threads';
import { validateRevisionReport } from './pre-receive.js';

const { gitDir, revision, oldRev } = workerData as { gitDir: string; revision: string; oldRev?: string };
parentPort!.postMessage(await validateRevisionReport(gitDir, revision, oldRev));
