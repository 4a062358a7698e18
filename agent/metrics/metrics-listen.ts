/**
 * The metrics endpoint's listen address, from `--metrics-listen HOST:PORT` or the config key
 * `metrics.listen`. Off unless given; `PORT` or `:PORT` alone binds the loopback, so a non-loopback address
 * (which serves the metrics to anyone who reaches it) is only ever bound when it is written out.
 */
import { isIP } from 'node:net';
import { FoundryError } from '../../common/errors.js';
import { isLoopback } from '../drivers/libvirt/console-locate.js';

/** Where the metrics endpoint listens. */
export interface MetricsListen {
  host: string;
  /** 0: a free port chosen by the system (logged at start). */
  port: number;
  /** False for an address beyond the loopback (the agent logs a warning: the endpoint has no authentication). */
  loopback: boolean;
}

const HOSTNAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i;

/** Parses `text`; throws CONFIG_INVALID naming `where` (the flag or the config key and file) and what is wrong. */
export function parseMetricsListen(text: string, where: string): MetricsListen {
  const bad = (why: string): FoundryError =>
    new FoundryError('CONFIG_INVALID', `${where}: ${why} (expected HOST:PORT such as 127.0.0.1:9101, [::1]:9101 or 0.0.0.0:9101, or PORT alone for the loopback)`, { resource: where });
  const value = text.trim();
  if (value === '') throw bad('empty address');
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(value);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (isIP(host) !== 6) throw bad(`"${host}" is not an IPv6 address`);
  } else if (/^\d+$/.test(value)) {
    host = '127.0.0.1';
    portText = value;
  } else {
    const i = value.lastIndexOf(':');
    if (i < 0) throw bad(`"${value}" has no port`);
    host = value.slice(0, i) === '' ? '127.0.0.1' : value.slice(0, i);
    portText = value.slice(i + 1);
    if (host.includes(':')) throw bad(`write an IPv6 address in brackets: [${host}]:${portText}`);
    if (isIP(host) === 0 && !HOSTNAME.test(host)) throw bad(`"${host}" is not an IP address or host name`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port "${portText}" is not a number from 0 to 65535`);
  return { host, port: Number(portText), loopback: isLoopback(host) };
}
