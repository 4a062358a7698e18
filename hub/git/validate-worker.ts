/** Worker-thread entry of the pre-receive validation: validates workerData's revision and posts the issues. */
import { parentPort, workerData } from 'node:worker_threads';
import { validateRevision } from './pre-receive.js';

const { gitDir, revision } = workerData as { gitDir: string; revision: string };
parentPort!.postMessage(await validateRevision(gitDir, revision));
