/**
 * Test support: a real OpenID Provider (oidc-provider, run by oidc-provider-process.mjs as its own
 * process on a random loopback port) behind a small forwarding proxy that is the issuer URL. The proxy
 * lets a test tamper with the ID token of the token endpoint's answer (change claims, re-sign with the
 * IdP's key or a foreign one, replay an older token) and keeps the issuer stable when the IdP restarts
 * with new signing keys. Not product code: the hub talks to it as to any IdP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'oidc-provider-process.mjs');

/** A user of the test IdP. */
export interface OpUser {
  login: string;
  password: string;
  sub: string;
  email?: string;
  name?: string;
  groups: string[];
  /** Authentication methods the IdP asserts (default ['pwd']); include 'mfa' for multi-factor. */
  amr?: string[];
}

/** A client registered at the test IdP. */
export interface OpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
}

/** A signing key pair: the private JWK (for the IdP or for re-signing) with kid and alg. */
export async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

/** Changes an ID token on its way to the hub: new claims (and header), signed with `key`. */
export type Tamper = (claims: JWTPayload, seen: string[]) => { claims?: JWTPayload; key?: JWK; token?: string } | undefined;

/** The running IdP and its proxy. */
export interface TestOp {
  issuer: string;
  /** The IdP's current signing key. */
  key: JWK;
  /** ID tokens the proxy passed on, oldest first. */
  idTokens: string[];
  /** Set to change the next token responses; undefined passes them through. */
  tamper: Tamper | undefined;
  /** Restarts the IdP with a new signing key (same issuer); sessions at the IdP are lost. */
  rotateKeys(): Promise<void>;
  /** Stops the IdP (the proxy then answers 502, as an unreachable IdP). */
  stopIdp(): Promise<void>;
  close(): Promise<void>;
}

interface Running { child: ChildProcess; port: number }

async function runIdp(config: object): Promise<Running> {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, FOUNDRY_OP_CONFIG: JSON.stringify(config), NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`test IdP exited with ${code}: ${err}`)));
  });
  return { child, port };
}

async function stop(r: Running | undefined): Promise<void> {
  if (r === undefined || r.child.exitCode !== null) return;
  const gone = new Promise((resolve) => r.child.once('exit', resolve));
  r.child.kill('SIGTERM');
  await gone;
}

/** Starts the proxy and the IdP with `clients` and `users`. */
export async function startTestOp(opts: { clients: (issuer: string) => OpClient[]; users: OpUser[] }): Promise<TestOp> {
  let idp: Running | undefined;
  const op: TestOp = {
    issuer: '',
    key: await signingKey('k1'),
    idTokens: [],
    tamper: undefined,
    rotateKeys: async () => {
      await stop(idp);
      op.key = await signingKey(`k${Date.now()}`);
      idp = await runIdp(config());
    },
    stopIdp: async () => {
      await stop(idp);
      idp = undefined;
    },
    close: async () => {
      await stop(idp);
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
  const config = () => ({ issuer: op.issuer, jwks: { keys: [op.key] }, clients: opts.clients(op.issuer), users: opts.users });

  const proxy = http.createServer((req, res) => {
    if (idp === undefined) {
      res.writeHead(502).end('test IdP is down');
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: idp.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (req.url?.split('?')[0] !== '/token') {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        void rewrite(Buffer.concat(chunks).toString()).then((body) => {
          const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(body)) };
          delete headers['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, headers).end(body);
        });
      });
    });
    upstream.on('error', () => res.writeHead(502).end('test IdP unreachable'));
    req.pipe(upstream);
  });
  const rewrite = async (text: string): Promise<string> => {
    const body = JSON.parse(text) as { id_token?: string };
    if (body.id_token === undefined) return text;
    const seen = [...op.idTokens];
    op.idTokens.push(body.id_token);
    const change = op.tamper?.(decodeJwt(body.id_token), seen);
    if (change === undefined) return text;
    if (change.token !== undefined) body.id_token = change.token;
    else {
      const key = change.key ?? op.key;
      const header = { ...decodeProtectedHeader(body.id_token), alg: 'RS256', kid: key.kid };
      body.id_token = await new SignJWT(change.claims ?? decodeJwt(body.id_token)).setProtectedHeader(header).sign(await importJWK(key, 'RS256'));
    }
    return JSON.stringify(body);
  };
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  op.issuer = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  idp = await runIdp(config());
  return op;
}
