/**
 * The node's side of enrollment (run by `foundry agent enroll`, which install.sh calls): check the hub's
 * certificate against the join token's pin BEFORE sending anything, collect the inventory, POST it with
 * the token, and write the agent configuration and the credential (mode 0600).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { cpus, hostname, totalmem, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { VERSION } from '../../common/version.js';
import { NvidiaGpuPlugin } from '../gpu/nvidia-plugin.js';
import { collectHostMetrics } from '../host/host-metrics.js';
import type { EnrollRequest } from '../../common/generated/http/enroll-request.js';
import type { EnrollResult } from '../../common/enroll/enroll-result.js';
import { pinOfDer } from '../../common/enroll/tls-pin.js';

/** True for hosts that never leave the machine (plain http is allowed to them). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** A DNS-label node name from a host name ("GPU-01.example.eu" → "gpu-01"). */
export function nodeNameFromHostname(host: string): string {
  const label = (host.split('.')[0] ?? '').toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return label === '' ? 'node' : label;
}

/** The node's inventory: host name, OS, CPU, memory, disks (systeminformation) and GPUs (nvidia-smi). */
export async function collectInventory(opts: { nvidiaSmi?: string } = {}): Promise<EnrollRequest['inventory']> {
  const [host, gpu] = await Promise.all([collectHostMetrics(), new NvidiaGpuPlugin({ command: opts.nvidiaSmi ?? 'nvidia-smi', timeoutMs: 30_000 }).fingerprint()]);
  return {
    hostname: hostname(),
    os: osRelease(),
    arch: arch(),
    agentVersion: VERSION,
    cpu: { model: cpus()[0]?.model ?? null, cores: Math.max(1, cpus().length) },
    memoryBytes: totalmem(),
    disks: host.filesystems.slice(0, 128).map((f) => ({ mount: f.mount, type: f.type, sizeBytes: Math.round(f.sizeBytes), availableBytes: Math.max(0, Math.round(f.availableBytes)) })),
    gpus: gpu.gpus
      .filter((g) => /^(GPU|MIG)-[0-9a-fA-F-]{8,}$/.test(g.uuid))
      .slice(0, 64)
      .map((g) => ({ uuid: g.uuid, model: g.model, memoryTotalMiB: g.memoryTotalMiB, pciBusId: g.pciBusId })),
  };
}

function osRelease(): string | undefined {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.slice(0, 128);
  } catch {
    return undefined;
  }
}

/** How to reach the hub: the URL, the token's pin, and whether plain http to a non-loopback host is allowed. */
export interface HubTarget {
  url: string;
  pin: string | undefined;
  insecure: boolean;
}

/** A JSON response. */
export interface JsonResponse {
  status: number;
  body: unknown;
  /** The hub's certificate (PEM) when TLS was pinned and the certificate is not trusted by the system CAs. */
  untrustedCertPem: string | undefined;
}

/** Sends a JSON request; with a pin, the TLS key is checked before a single byte of the request goes out. */
export async function hubRequest(target: HubTarget, method: string, path: string, body: unknown): Promise<JsonResponse> {
  const url = new URL(path, `${target.url.replace(/\/+$/, '')}/`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname) && !target.insecure) {
    throw new FoundryError('BAD_REQUEST', `refusing plain http to ${url.host}: use https, or --insecure on a trusted network`, { resource: url.host });
  }
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  let untrustedCertPem: string | undefined;
  let socket: TLSSocket | undefined;
  if (url.protocol === 'https:') {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    socket = tlsConnect({ host, port: Number(url.port || 443), servername: isIP(host) === 0 ? host : undefined, rejectUnauthorized: target.pin === undefined });
    try {
      await once(socket, 'secureConnect');
    } catch (err) {
      throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot reach the hub at ${url.host}: ${errorMessage(err)}`, { resource: url.host, cause: err });
    }
    if (target.pin !== undefined) {
      const cert = socket.getPeerCertificate(true);
      if (cert.raw === undefined || pinOfDer(cert.raw) !== target.pin) {
        socket.destroy();
        throw new FoundryError('TLS_PIN_MISMATCH', `the hub at ${url.host} presented a certificate whose key does not match the join token's pin: not sending anything`, { resource: url.host });
      }
      if (!socket.authorized) untrustedCertPem = `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
    }
  }
  const tlsSocket = socket;
  const req = httpRequest({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    path: `${url.pathname}${url.search}`,
    method,
    headers: { host: url.host, accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }) },
    ...(tlsSocket === undefined ? {} : { createConnection: () => tlsSocket }),
  });
  const responded = once(req, 'response') as Promise<[IncomingMessage]>;
  req.end(payload);
  let res: IncomingMessage;
  try {
    [res] = await responded;
  } catch (err) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', `request to the hub at ${url.host} failed: ${errorMessage(err)}`, { resource: url.host, cause: err });
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  tlsSocket?.destroy();
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode ?? 0, body: parsed, untrustedCertPem };
}

/** POSTs the enrollment; throws the hub's refusal as a FoundryError with its code and message. */
export async function requestEnrollment(target: HubTarget, req: EnrollRequest): Promise<{ result: EnrollResult; untrustedCertPem: string | undefined }> {
  const res = await hubRequest(target, 'POST', '/api/v1/enroll', req);
  if (res.status !== 201) {
    const b = (res.body ?? {}) as { code?: string; message?: string };
    const code = b.code === 'JOIN_TOKEN' || b.code === 'NODE_NAME_TAKEN' || b.code === 'BAD_REQUEST' ? b.code : 'RUNTIME_UNAVAILABLE';
    throw new FoundryError(code, `the hub refused the enrollment (http ${res.status}): ${b.message ?? String(res.body).slice(0, 200)}`, { resource: req.node });
  }
  return { result: res.body as EnrollResult, untrustedCertPem: res.untrustedCertPem };
}
