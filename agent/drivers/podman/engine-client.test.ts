import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from './engine-client.js';
import { EngineError, engineError, engineMessage, isNameConflict, isNotFound, isNotModified, isUnreachable } from './engine-errors.js';
import { progressFailure, splitReference } from './engine-pull.js';

/** What the loopback engine saw of one request. */
interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('EngineClient against a loopback unix-socket server', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  let handler: Handler;
  let seen: Seen[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-engine-client-'));
    socketPath = join(dir, 'engine.sock');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  beforeEach(() => {
    seen = [];
    server.closeAllConnections();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const json = (status: number, value: unknown): Handler => (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const client = (timeoutMs = 5_000): EngineClient => new EngineClient({ socketPath, timeoutMs });

  it('sends list filters as a JSON query parameter and parses the JSON answer', async () => {
    handler = json(200, [{ Id: 'c1', Names: ['/a'], Image: 'x:1', State: 'running', Labels: { a: 'b' } }]);
    const list = await client().listContainers({ label: ['foundry.cloud/node=n1'] });
    expect(list).toEqual([{ Id: 'c1', Names: ['/a'], Image: 'x:1', State: 'running', Labels: { a: 'b' } }]);
    expect(seen).toEqual([{ method: 'GET', url: `/containers/json?all=true&filters=${encodeURIComponent('{"label":["foundry.cloud/node=n1"]}')}`, contentType: undefined, body: '' }]);
  });

  it('creates a container with its name in the query and the body as JSON; resolves the id', async () => {
    handler = json(201, { Id: 'abc123', Warnings: [] });
    const body = { name: 'fc-ws-w1-app', Image: 'x:1', Env: [], Labels: {}, ExposedPorts: {}, HostConfig: { PortBindings: {}, Mounts: [], RestartPolicy: { Name: '' }, NetworkMode: 'bridge', Privileged: false } };
    expect(await client().createContainer(body)).toBe('abc123');
    expect(seen[0]).toEqual({ method: 'POST', url: '/containers/create?name=fc-ws-w1-app', contentType: 'application/json', body: JSON.stringify(body) });
  });

  it('addresses images by reference with their slashes, and the other calls by their paths', async () => {
    handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const c = client();
    await c.inspectImage('localhost/foundry-test:1');
    await c.stopContainer('abc', 3);
    await c.removeContainer('abc', { force: true, v: false });
    await c.startContainer('abc');
    await c.removeNetwork('fc-ws-w1');
    await c.removeVolume('fc-ws-w1-data');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /images/localhost/foundry-test:1/json',
      'POST /containers/abc/stop?t=3',
      'DELETE /containers/abc?force=true&v=false',
      'POST /containers/abc/start',
      'DELETE /networks/fc-ws-w1',
      'DELETE /volumes/fc-ws-w1-data',
    ]);
  });

  it('maps the libpod network list to the compatible names, and a null list to none', async () => {
    handler = json(200, [{ name: 'fc-ws-w1', id: 'n1', labels: { a: 'b' } }, { name: 'podman', id: 'p', labels: null }]);
    expect(await client().libpodListNetworks({ label: ['x=y'] })).toEqual([
      { Name: 'fc-ws-w1', Id: 'n1', Labels: { a: 'b' } },
      { Name: 'podman', Id: 'p', Labels: {} },
    ]);
    expect(seen[0]?.url).toBe(`/v4.0.0/libpod/networks/json?filters=${encodeURIComponent('{"label":["x=y"]}')}`);
    handler = json(200, null);
    expect(await client().libpodListNetworks({ label: [] })).toEqual([]);
    handler = json(200, { Volumes: null, Warnings: [] });
    expect(await client().listVolumes({ label: [] })).toEqual([]);
  });

  it('turns a JSON error answer into an EngineError with the status and the engine message', async () => {
    handler = json(404, { cause: 'no such container', message: 'no such container: nope', response: 404 });
    const err = await client().inspectContainer('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ statusCode: 404, json: { message: 'no such container: nope' }, message: 'GET /containers/nope/json answered 404: no such container: nope' });
    expect(isNotFound(err)).toBe(true);
    expect(engineMessage(err)).toBe('no such container: nope');
    const wrapped = engineError(err, 'inspect container nope', 'ws.w1.nope');
    expect([wrapped.code, wrapped.message, wrapped.resource, wrapped.details]).toEqual(['RUNTIME_ACTION', 'inspect container nope: no such container: nope', 'ws.w1.nope', { status: 404 }]);
  });

  it('keeps a non-JSON error body as text, and an empty one (304) as null', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('container name "fc-ws-w1-app" is already in use\n');
    };
    const err = await client().createContainer({ name: 'fc-ws-w1-app' } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 500, json: 'container name "fc-ws-w1-app" is already in use' });
    expect(isNameConflict(err)).toBe(true);
    expect(engineMessage(err)).toBe('container name "fc-ws-w1-app" is already in use');

    handler = (_req, res) => {
      res.writeHead(304);
      res.end();
    };
    const notModified = await client().startContainer('abc').catch((e: unknown) => e);
    expect(notModified).toMatchObject({ statusCode: 304, json: null, message: 'POST /containers/abc/start answered 304' });
    expect(isNotModified(notModified)).toBe(true);
  });

  it('opens a fresh connection per call, so an engine that drops idle connections never fails the next call', async () => {
    handler = json(201, { Id: 'c1' });
    const c = client();
    expect(await c.createContainer({ name: 'a' } as never)).toBe('c1');
    server.closeAllConnections();
    expect(await c.createContainer({ name: 'b' } as never)).toBe('c1');
    expect(seen.map((s) => s.url)).toEqual(['/containers/create?name=a', '/containers/create?name=b']);
  });

  it('gives up on an engine that does not answer within the timeout, as unreachable (ETIMEDOUT)', async () => {
    handler = () => undefined; // never answers
    const err = await client(300).listVolumes({ label: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', message: 'GET /volumes timed out after 300 ms' });
    expect(isUnreachable(err)).toBe(true);
    expect(engineError(err, 'list', 'node/n1').code).toBe('RUNTIME_UNAVAILABLE');
  });

  it('reports a connection closed in the middle of an answer as ECONNRESET', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('[{"Id":');
      setTimeout(() => res.destroy(), 20);
    };
    const err = await client().listContainers({}).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNRESET');
    expect(isUnreachable(err)).toBe(true);
  });

  it('rejects with the socket error when nothing listens on the path (ENOENT), which is RUNTIME_UNAVAILABLE', async () => {
    const err = await new EngineClient({ socketPath: join(dir, 'missing.sock') }).listContainers({}).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ENOENT');
    const wrapped = engineError(err, 'list containers', 'node/n1');
    expect([wrapped.code, wrapped.message]).toEqual(['RUNTIME_UNAVAILABLE', 'list containers: the container engine is not reachable (ENOENT)']);
  });

  describe('image pull (chunked stream of JSON lines)', () => {
    /** Streams `chunks` one by one with a pause between them, then ends (unless `hang`). */
    const stream = (chunks: string[], hang = false): Handler => (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let i = 0;
      const next = (): void => {
        if (i < chunks.length) {
          res.write(chunks[i++]);
          setTimeout(next, 5);
        } else if (!hang) res.end();
      };
      next();
    };

    it('resolves once the stream ends without an error line, asking for repository and tag', async () => {
      handler = stream(['{"status":"Pulling fs layer","id":"a1"}\n{"status":"Down', 'loading","progressDetail":{"current":1}}\n', '{"status":"Download complete"}\n']);
      await client().pullImage('localhost:5000/team/model:2', 5_000);
      expect(seen[0]).toMatchObject({ method: 'POST', url: `/images/create?fromImage=${encodeURIComponent('localhost:5000/team/model')}&tag=2` });
    });

    it('rejects with the message of an error line, even one split across chunks and followed by more', async () => {
      handler = stream(['{"status":"Trying to pull registry.invalid/nope:1..."}\n{"error":"pull failed","errorDe', 'tail":{"message":"initializing source docker://registry.invalid/nope:1: no such host"}}\n', 'not json at all\n{"status":"done"}']);
      const err = await client().pullImage('registry.invalid/nope:1', 5_000).catch((e: unknown) => e);
      expect((err as Error).message).toBe('initializing source docker://registry.invalid/nope:1: no such host');
      expect(isUnreachable(err)).toBe(false);
    });

    it('rejects an HTTP error answer as an EngineError', async () => {
      handler = json(500, { message: 'something broke' });
      const err = await client().pullImage('busybox', 5_000).catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 500, json: { message: 'something broke' } });
      expect(seen[0]?.url).toBe('/images/create?fromImage=busybox&tag=latest');
    });

    it('gives up after the pull timeout, however long the call timeout is', async () => {
      handler = stream(['{"status":"Pulling"}\n'], true);
      const err = await client(60_000).pullImage('busybox:1', 1_000).catch((e: unknown) => e);
      expect((err as Error).message).toBe('pull did not finish within 1 s');
      expect(isUnreachable(err)).toBe(false);
    });
  });
});

describe('splitReference', () => {
  it('splits a tag or digest from the repository, defaulting to latest, and keeps a registry port', () => {
    expect(splitReference('busybox')).toEqual({ fromImage: 'busybox', tag: 'latest' });
    expect(splitReference('localhost/foundry-test:1')).toEqual({ fromImage: 'localhost/foundry-test', tag: '1' });
    expect(splitReference('localhost:5000/x')).toEqual({ fromImage: 'localhost:5000/x', tag: 'latest' });
    expect(splitReference('r.io/x@sha256:abc')).toEqual({ fromImage: 'r.io/x', tag: 'sha256:abc' });
  });
});

describe('progressFailure', () => {
  it('finds the failure of an error line, and nothing in progress or non-JSON lines', () => {
    expect(progressFailure('{"status":"Downloading"}')).toBeUndefined();
    expect(progressFailure('garbage')).toBeUndefined();
    expect(progressFailure('  ')).toBeUndefined();
    expect(progressFailure('{"error":"denied"}')).toBe('denied');
    expect(progressFailure('{"error":"x","errorDetail":{"message":"detailed"}}')).toBe('detailed');
    expect(progressFailure('{"errorDetail":{}}')).toBe('pull failed');
  });
});
