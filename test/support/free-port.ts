/** A free TCP port on `host` (default loopback), for test servers that cannot listen on port 0 themselves. */
import { createServer } from 'node:net';

/** Binds port 0, reads the port the kernel chose, and releases it. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}
