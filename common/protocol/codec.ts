/**
 * The agent-hub wire format: a versioned envelope `{ v: 1, type, id, seq?, ts, body }`, one JSON Schema per
 * message type under schemas/protocol/. Both sides decode every frame through `decodeFrame`, which never
 * throws: a bad frame becomes an error body naming the message type and the field.
 */
import { randomUUID } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { validatorFor } from '../schema.js';
import type { HelloMessage } from '../generated/protocol/hello.js';
import type { StatusMessage } from '../generated/protocol/status.js';
import type { TelemetryMessage } from '../generated/protocol/telemetry.js';
import type { UsageMessage } from '../generated/protocol/usage.js';
import type { AckMessage } from '../generated/protocol/ack.js';
import type { CommandMessage } from '../generated/protocol/command.js';
import type { ErrorMessage } from '../generated/protocol/error.js';
import type { ConsoleOpenMessage } from '../generated/protocol/console-open.js';
import type { VolumeKeysRequestMessage } from '../generated/protocol/volume-keys-request.js';
import type { VolumeKeysMessage } from '../generated/protocol/volume-keys.js';
import type { SecretsMessage } from '../generated/protocol/secrets.js';
import type { GpuAllocationRecord } from '../generated/protocol/usage-record-gpu-allocation.js';
import type { ResourceAllocationRecord } from '../generated/protocol/usage-record-resource-allocation.js';

export type { HelloMessage, StatusMessage, TelemetryMessage, UsageMessage, AckMessage, CommandMessage, ErrorMessage, ConsoleOpenMessage, SecretsMessage, GpuAllocationRecord, ResourceAllocationRecord };
export type { VolumeKeysRequestMessage, VolumeKeysMessage };

/** A usage record of any kind, as the wire carries it in a usage message's body.record. */
export type UsageRecordWire = GpuAllocationRecord | ResourceAllocationRecord;
/** Schema file of each usage record kind (under schemas/protocol/). */
export const USAGE_RECORD_SCHEMAS: Readonly<Record<UsageRecordWire['kind'], string>> = {
  'gpu-allocation': 'protocol/usage-record-gpu-allocation.schema.json',
  'resource-allocation': 'protocol/usage-record-resource-allocation.schema.json',
};

/** Path of the agents' WebSocket on the hub. */
export const AGENT_WS_PATH = '/api/v1/agent/ws';
/** Path of the second WebSocket an agent opens for one console tunnel (node credential + tunnel header). */
export const AGENT_CONSOLE_PATH = '/api/v1/agent/console';
/** Header that names the tunnel on the agent's console WebSocket. */
export const TUNNEL_HEADER = 'x-foundry-tunnel';
/** Protocol version carried in every envelope. */
export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts for decoding (bytes); larger frames get an error frame. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Hard limit at the WebSocket layer: a frame past this closes the connection (1009) before it is buffered. */
export const MAX_WS_PAYLOAD_BYTES = 1024 * 1024;

/** Every message, keyed by its type. */
export interface MessageByType {
  hello: HelloMessage;
  status: StatusMessage;
  telemetry: TelemetryMessage;
  usage: UsageMessage;
  ack: AckMessage;
  command: CommandMessage;
  error: ErrorMessage;
  'console-open': ConsoleOpenMessage;
  'volume-keys-request': VolumeKeysRequestMessage;
  'volume-keys': VolumeKeysMessage;
  secrets: SecretsMessage;
}
/** One message type name. */
export type MessageType = keyof MessageByType;
/** Any message. */
export type Message = MessageByType[MessageType];
/** Messages an agent sends. */
export const AGENT_TO_HUB = ['hello', 'status', 'telemetry', 'usage', 'volume-keys-request'] as const satisfies readonly MessageType[];
/** Messages the hub sends. */
export const HUB_TO_AGENT = ['ack', 'command', 'error', 'console-open', 'secrets', 'volume-keys'] as const satisfies readonly MessageType[];
/** A message type an agent sends. */
export type AgentToHub = (typeof AGENT_TO_HUB)[number];
/** A message type the hub sends. */
export type HubToAgent = (typeof HUB_TO_AGENT)[number];
/** The body of an error frame. */
export type ProtocolErrorBody = ErrorMessage['body'];

/** Result of decoding one frame: the message, or the error to send back. */
export type Decoded<T extends MessageType> = { ok: true; msg: MessageByType[T] } | { ok: false; error: ProtocolErrorBody };

function fail(message: string, field?: string, refType?: string, refId?: string): { ok: false; error: ProtocolErrorBody } {
  const error: ProtocolErrorBody = { code: 'PROTOCOL_FRAME', message };
  if (field !== undefined) error.field = field;
  if (refType !== undefined) error.refType = refType.slice(0, 64);
  if (refId !== undefined) error.refId = refId.slice(0, 64);
  return { ok: false, error };
}

function byteLength(raw: string | Buffer): number {
  return typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
}

/** Decodes and validates one frame against the types `accept`ed on this side. Never throws. */
export function decodeFrame<T extends MessageType>(raw: string | Buffer, accept: readonly T[]): Decoded<T> {
  const size = byteLength(raw);
  if (size > MAX_FRAME_BYTES) return fail(`frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return fail('frame is not valid json');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('frame is not a json object', '');
  const env = data as Record<string, unknown>;
  const type = typeof env.type === 'string' ? env.type : undefined;
  const id = typeof env.id === 'string' ? env.id : undefined;
  if (env.v !== PROTOCOL_VERSION) return fail(`unsupported protocol version ${JSON.stringify(env.v) ?? 'undefined'}: expected ${PROTOCOL_VERSION}`, '/v', type, id);
  if (type === undefined || !(accept as readonly string[]).includes(type)) {
    return fail(`unknown or unexpected message type ${JSON.stringify(env.type) ?? 'undefined'}: expected one of ${accept.join(', ')}`, '/type', type, id);
  }
  const validate = validatorFor(`protocol/${type}.schema.json`);
  if (!validate(data)) {
    const { field, why } = firstError(validate.errors, '');
    return fail(`${type} message: ${field === '' ? '(root)' : field} ${why}`, field, type, id);
  }
  return { ok: true, msg: data as MessageByType[T] };
}

/** The first ajv error of `validate` as a JSON pointer field and a message (the field prefixed with `base`). */
function firstError(errors: ValidateFunction['errors'], base: string): { field: string; why: string } {
  const first = errors?.[0];
  const rel = first === undefined ? '' : first.keyword === 'additionalProperties' ? `${first.instancePath}/${String((first.params as { additionalProperty?: string }).additionalProperty)}` : first.instancePath;
  const why = first?.keyword === 'additionalProperties' ? 'is not allowed' : (first?.message ?? 'is invalid');
  return { field: `${base}${rel}`, why };
}

/**
 * Decodes the record of a usage message against the schema of its kind (schemas/protocol/usage-record-*).
 * Never throws: a bad record becomes an error body naming the field (e.g. `/body/record/to`).
 */
export function decodeUsageRecord(record: unknown): { ok: true; record: UsageRecordWire } | { ok: false; error: ProtocolErrorBody } {
  const base = '/body/record';
  const kind = typeof record === 'object' && record !== null ? (record as { kind?: unknown }).kind : undefined;
  const key = typeof kind === 'string' && Object.hasOwn(USAGE_RECORD_SCHEMAS, kind) ? USAGE_RECORD_SCHEMAS[kind as UsageRecordWire['kind']] : undefined;
  if (key === undefined) {
    return fail(`usage record: ${base}/kind must be one of ${Object.keys(USAGE_RECORD_SCHEMAS).join(', ')}`, `${base}/kind`, 'usage');
  }
  const validate = validatorFor(key);
  if (validate(record)) return { ok: true, record: record as UsageRecordWire };
  const e = firstError(validate.errors, base);
  return fail(`usage record (${String(kind)}): ${e.field} ${e.why}`, e.field, 'usage');
}

/** Builds a frame (a JSON string) of `type` with a fresh id and the current time. */
export function encodeFrame<T extends MessageType>(type: T, body: MessageByType[T]['body'], options: { seq?: number; now?: Date } = {}): string {
  const env: Record<string, unknown> = { v: PROTOCOL_VERSION, type, id: randomUUID(), ts: (options.now ?? new Date()).toISOString(), body };
  if (options.seq !== undefined) env.seq = options.seq;
  return JSON.stringify(env);
}

/**
 * Counts bad frames from one peer in a sliding window; `record()` says when the peer has sent too many and
 * should be disconnected.
 */
export class BadFrameCounter {
  private times: number[] = [];
  constructor(
    private readonly limit = 20,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one bad frame; true when the peer reached the limit within the window. */
  record(): boolean {
    const t = this.now();
    this.times = this.times.filter((x) => t - x < this.windowMs);
    this.times.push(t);
    return this.times.length >= this.limit;
  }
}
