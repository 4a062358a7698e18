// The test app behind the ingress (runs in a container of the node image, see test/support/node-image.ts):
//   GET /            "app NAME" (NAME from $APP_NAME)
//   GET /headers     the request headers it received, as JSON (what the ingress forwarded)
//   GET /stream      chunked: "first\n" at once, "last\n" only after GET /release (so a client that sees
//                    "first" before it asked for the release proves the proxy streamed it)
//   GET /sse         server-sent events, the same way (event "first", then "last" after /release)
//   GET /release     lets the waiting streams finish
//   POST /upload     counts the body as it streams in; answers {bytes}
//   WS  /ws          echoes every message (the ws library)
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const name = process.env.APP_NAME ?? 'app';
let waiting = [];
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://app').pathname;
  if (path === '/headers') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  } else if (path === '/stream' || path === '/sse') {
    const sse = path === '/sse';
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'text/plain', 'cache-control': 'no-cache' });
    res.write(sse ? 'event: first\ndata: 1\n\n' : 'first\n');
    waiting.push(() => res.end(sse ? 'event: last\ndata: 2\n\n' : 'last\n'));
  } else if (path === '/release') {
    const n = waiting.length;
    waiting.forEach((f) => f());
    waiting = [];
    res.end(`released ${n}\n`);
  } else if (path === '/upload' && req.method === 'POST') {
    let bytes = 0;
    req.on('data', (b) => (bytes += b.length));
    req.on('end', () => res.end(JSON.stringify({ bytes })));
  } else {
    res.end(`app ${name}\n`);
  }
});
const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
server.listen(Number(process.env.PORT ?? 8080), '0.0.0.0');
