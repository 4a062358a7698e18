/**
 * "Open in Guacamole": for a desktop workspace the hub provisions one Guacamole connection in the signed,
 * encrypted JSON of guacamole-auth-json (so the user needs no second login) and returns a link to the
 * Guacamole web app that carries the data in the URL fragment (`#/?data=`), which browsers never send to a
 * server or a proxy log; Guacamole's own page hands it to its /api/tokens. guacd reaches the VM console
 * through a one-time relay port on the hub: the first TCP connection within the data's lifetime becomes a
 * console tunnel (the agent dials out, as for noVNC); the port then closes.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { FoundryError } from '../../common/errors.js';
import { parseGuacamoleKey, signAndEncrypt, type GuacamoleAuthJson } from './guacamole-token.js';

/** Hub settings for Guacamole. */
export interface GuacamoleOptions {
  /** The Guacamole web app's public URL (e.g. https://desktops.example.eu/guacamole). */
  url: string;
  /** File holding the shared key (32 hex digits, json-secret-key). Read at each sign-in, so a rotated key applies at once. */
  keyFile: string;
  /** Address the one-time relay ports listen on: one guacd reaches, on the service network (default 127.0.0.1). */
  relayHost?: string;
  /** The relay address as guacd dials it, when it differs (NAT, container DNS); default relayHost. */
  relayAdvertise?: string;
  /** Lifetime of the data and of the relay port (default 60 s). */
  ttlMs?: number;
}

/** What signIn needs: the workspace, its node, who asks. */
export interface GuacamoleRequest {
  workspace: string;
  tenant: string;
  node: string;
  actor: string;
  username: string;
}

/** Opens a console of `workspace` on `node` and splices it with `socket` (the broker's tunnel for a TCP peer). */
export type TcpConsoleOpener = (socket: Socket, req: GuacamoleRequest) => void;

/** Reads and parses the key file; throws GUACAMOLE_KEY naming the file (never its content). */
export function checkGuacamoleKeyFile(keyFile: string): Buffer {
  let hex: string;
  try {
    hex = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new FoundryError('GUACAMOLE_KEY', `cannot read the guacamole key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { resource: keyFile });
  }
  return parseGuacamoleKey(hex, keyFile);
}

/** Builds Guacamole sign-in links with a one-time relay per connection. */
export class GuacamoleLinks {
  constructor(
    private readonly opts: GuacamoleOptions,
    private readonly openConsole: TcpConsoleOpener,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sign-in link (and its parts, for tests and the dashboard) for one desktop. */
  async signIn(req: GuacamoleRequest): Promise<{ url: string; connection: string; expiresAt: string }> {
    const key = checkGuacamoleKeyFile(this.opts.keyFile);
    const ttl = this.opts.ttlMs ?? 60_000;
    const port = await this.relay(req, ttl);
    const connection = `${req.workspace} desktop`;
    const json: GuacamoleAuthJson = {
      username: req.username,
      expires: this.now() + ttl,
      connections: { [connection]: { protocol: 'vnc', parameters: { hostname: this.opts.relayAdvertise ?? this.opts.relayHost ?? '127.0.0.1', port: String(port) } } },
    };
    const data = signAndEncrypt(JSON.stringify(json), key);
    return { url: `${this.opts.url.replace(/\/+$/, '')}/#/?data=${encodeURIComponent(data)}`, connection, expiresAt: new Date(json.expires).toISOString() };
  }

  /** A one-time listener: its first connection is handed to the console opener; it closes after that or after `ttl`. */
  private relay(req: GuacamoleRequest, ttl: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      const timer = setTimeout(() => server.close(), ttl);
      timer.unref();
      server.once('connection', (socket) => {
        clearTimeout(timer);
        server.close();
        this.openConsole(socket, req);
      });
      server.once('error', (err) => reject(new FoundryError('CONSOLE_TUNNEL', `cannot open a relay port for guacamole: ${err.message}`, { resource: req.workspace })));
      server.listen(0, this.opts.relayHost ?? '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  }
}
