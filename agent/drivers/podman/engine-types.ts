/**
 * The few shapes of the Docker-compatible Engine API (as Podman and Docker Engine serve it) that the
 * agent reads or writes. Only the fields we use are named; the engine sends more.
 */

/** Labels as the engine returns them (Podman sends null for "none"). */
export type EngineLabels = Record<string, string> | null | undefined;

/** An entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image: string;
  State?: string;
  Status?: string;
  Labels?: EngineLabels;
  /** Published ports: the address and host port the engine actually bound (PublicPort absent when not published). */
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type?: string }> | null;
}

/** `GET /containers/{id}/json`, the part the agent reads. */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Config?: { Labels?: EngineLabels; [field: string]: unknown };
  /** Mounts of the container; named volumes carry Type volume and their Name. */
  Mounts?: { Type?: string; Name?: string }[] | null;
  [field: string]: unknown;
}

/** An entry of `GET /networks` (or the libpod list, mapped to these names), or `GET /networks/{id}`. */
export interface NetworkSummary {
  Name: string;
  Id: string;
  Labels?: EngineLabels;
}

/** An entry of `GET /volumes`, or `GET /volumes/{name}` and `POST /volumes/create`. */
export interface VolumeSummary {
  Name: string;
  Labels?: EngineLabels;
  /** The local driver's options (type, o, device for a bind volume). */
  Options?: Record<string, string> | null;
}

/** Healthcheck in the engine's units (nanoseconds). */
export interface HealthConfig {
  Test: string[];
  Interval: number;
  Timeout: number;
  Retries: number;
  StartPeriod: number;
}

/** The HostConfig of a Docker-compatible create body. */
export interface HostConfig {
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  Mounts: { Type: string; Source: string; Target: string; ReadOnly: boolean }[];
  RestartPolicy: { Name: string };
  NetworkMode: string;
  Privileged: boolean;
  NanoCpus?: number;
  Memory?: number;
  DeviceRequests?: { Driver: string; DeviceIDs: string[]; Capabilities: string[][] }[];
}

/** The body of `POST /containers/create` (`name` goes in the query string as well). */
export interface ContainerCreateBody {
  name: string;
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts: Record<string, object>;
  HostConfig: HostConfig;
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  WorkingDir?: string;
  Healthcheck?: HealthConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases: string[] }> };
}

/** The body of `POST /networks/create`. */
export interface NetworkCreateBody {
  Name: string;
  Driver: string;
  Internal: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  CheckDuplicate: boolean;
}

/** Label filters of a list call, e.g. `{ label: ['a=b'] }`. */
export type EngineFilters = Record<string, string[]>;
