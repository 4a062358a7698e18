/** Worker-thread entry of the pre-receive validation: validates workerData's revision and posts its issues and warnings. */
import { parentPort, workerData } from 'node:worker_threads';
import { validateRevisionReport } from './pre-receive.js';

const { gitDir, revision } = workerData as { gitDir: string; revision: string };
parentPort!.postMessage(await validateRevisionReport(gitDir, revision));
