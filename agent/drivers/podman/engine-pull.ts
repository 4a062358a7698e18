/**
 * `POST /images/create`: the engine answers 200 at once and then streams one JSON object per line
 * (progress, status); a failure can arrive inside that stream as `{"error": ..., "errorDetail": {...}}`,
 * so the stream is read to its end and checked line by line.
 */
import { request, type Agent } from 'node:http';
import { errorFromAnswer } from './engine-errors.js';

/** A progress line longer than this is not one the engine sends; it is skipped rather than buffered. */
const MAX_LINE = 1024 * 1024;

/** Splits a reference into what `fromImage` and `tag` take (a digest counts as the tag), like the docker CLI. */
export function splitReference(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf('@');
  const colon = image.lastIndexOf(':');
  const sep = at >= 0 ? at : colon;
  // A colon before the last slash is a registry port (localhost:5000/x), not a tag.
  if (sep >= 0 && !image.slice(sep + 1).includes('/')) return { fromImage: image.slice(0, sep), tag: image.slice(sep + 1) };
  return { fromImage: image, tag: 'latest' };
}

/** The failure a progress line reports, if any (`errorDetail.message` first, then `error`). */
export function progressFailure(line: string): string | undefined {
  const t = line.trim();
  if (t === '') return undefined;
  let event: { error?: unknown; errorDetail?: { message?: unknown } | null };
  try {
    event = JSON.parse(t) as typeof event;
  } catch {
    return undefined; // not JSON: not a line we understand, and not a failure
  }
  if (event === null || typeof event !== 'object' || (event.error === undefined && event.errorDetail === undefined)) return undefined;
  const detail = event.errorDetail?.message;
  if (typeof detail === 'string' && detail !== '') return detail;
  return typeof event.error === 'string' && event.error !== '' ? event.error : 'pull failed';
}

/**
 * Sends the pull request `path` (`/images/create?fromImage=...&tag=...`) over `socketPath` and reads the
 * stream to its end. Rejects with the first failure line's message, an EngineError for an HTTP error
 * answer, the socket error, or a timeout after `timeoutMs`.
 */
export function pullImageStream(socketPath: string, path: string, timeoutMs: number, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', agent });
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === undefined) resolve();
      else reject(err);
    };
    const timer = setTimeout(() => {
      finish(new Error(`pull did not finish within ${Math.round(timeoutMs / 1000)} s`));
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      const ok = status >= 200 && status < 300;
      let pending = '';
      let errorText = '';
      let failure: string | undefined;
      const check = (line: string): void => {
        failure ??= progressFailure(line);
      };
      res.on('data', (chunk: string) => {
        if (!ok) {
          errorText = (errorText + chunk).slice(0, MAX_LINE);
          return;
        }
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        if (pending.length > MAX_LINE) pending = '';
        lines.forEach(check);
      });
      res.on('end', () => {
        if (!ok) return finish(errorFromAnswer('POST', path, status, errorText));
        check(pending);
        finish(failure === undefined ? undefined : new Error(failure));
      });
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(Object.assign(new Error('the engine closed the connection during the pull'), { code: 'ECONNRESET' })));
    });
    req.on('error', (err) => finish(err));
    req.end();
  });
}
