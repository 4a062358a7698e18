// A TCP port free on the loopback now (for servers the benchmarks start as separate processes).
import { createServer } from 'node:net';

/** A port the kernel just handed out on 127.0.0.1 and that was released again. */
export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
