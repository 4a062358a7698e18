// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A secret a container receives, as an environment variable (env) or a file (file); the value never appears in Git, labels or the container's create body (it is a Podman secret).
 */
export type SecretRef = {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  /**
   * Where the value comes from: repo (an age-encrypted file of the infra repo, the default) or workspace (a secret the tenant set for the workspace, delivered by the hub).
   */
  source?: "repo" | "workspace";
  /**
   * Environment variable that receives the value.
   */
  env?: string;
  /**
   * Absolute path of the file (mode 0400) that holds the value inside the container, e.g. /run/secrets/tls.key.
   */
  file?: string;
} & {
  [k: string]: unknown;
};
/**
 * A named volume (kept across container recreation) or an allowed host path mounted into the container.
 */
export type VolumeMount = {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name?: string;
  /**
   * Absolute path on the node for a bind mount. Must lie under a prefix the Cluster allows (spec.allowedHostPaths).
   */
  hostPath?: string;
  /**
   * Absolute path inside the container.
   */
  mountPath: string;
  /**
   * Mount read-only.
   */
  readOnly?: boolean;
  /**
   * Named volumes of workspaces are encrypted at rest with a key of their own (gocryptfs); none opts this volume out (shown in the dashboard). Ignored for hostPath and for services and profiles.
   */
  encryption?: "gocryptfs" | "none";
} & {
  [k: string]: unknown;
};

/**
 * What every node of a kind runs and what it may host. Built-ins live in node-profiles/; files under profiles/ override or extend them.
 */
export interface NodeProfile {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "NodeProfile";
  metadata: Metadata;
  /**
   * Profile settings.
   */
  spec: {
    /**
     * What this profile is for.
     */
    description?: string;
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    extends?: string;
    /**
     * Whether the scheduler may place workspaces here.
     */
    hostsWorkspaces?: boolean;
    /**
     * Whether services may target nodes of this profile.
     */
    hostsServices?: boolean;
    /**
     * Whether the agent reads and reports GPUs (nvidia-smi).
     */
    reportsGpus?: boolean;
    /**
     * Whether the agent reports storage capacity (Ceph).
     */
    reportsStorage?: boolean;
    /**
     * Containers every node of this profile runs.
     */
    containers?: Container[];
  };
}
/**
 * Identity of the document.
 */
export interface Metadata {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  labels?: Labels;
  /**
   * Free-form notes for people and tools; never interpreted by FoundryCloud.
   */
  annotations?: {
    [k: string]: string;
  };
}
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels {
  [k: string]: string;
}
/**
 * A container the agent runs with Podman.
 */
export interface Container {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  /**
   * Image reference, e.g. docker.io/ollama/ollama:0.5.7. Pin a tag or digest.
   */
  image: string;
  /**
   * Overrides the image's entrypoint.
   */
  command?: string[];
  /**
   * Overrides the image's default arguments.
   */
  args?: string[];
  /**
   * Environment variables, in plaintext in Git: never put a secret here, use secrets.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * Secrets the container receives by name, as an environment variable or a file (Podman secrets).
   *
   * @maxItems 64
   */
  secrets?: SecretRef[];
  /**
   * Ports published on the node.
   */
  ports?: ContainerPort[];
  /**
   * Named volumes and host paths to mount.
   */
  volumes?: VolumeMount[];
  /**
   * Resource limits.
   */
  resources?: {
    /**
     * CPU limit in cores, e.g. 2 or 0.5.
     */
    cpus?: number;
    /**
     * Memory limit, e.g. 8Gi.
     */
    memory?: string;
  };
  /**
   * Give the container GPUs as CDI devices: in a workspace template, the GPUs allocated to the workspace; in a service or profile, every GPU of the node (nvidia.com/gpu=all).
   */
  gpus?: boolean;
  /**
   * Extra CDI device names (vendor/class=name). GPUs only through gpus: true; in a workspace template only devices the Cluster lists in spec.templateDevices, never a GPU.
   */
  devices?: string[];
  healthcheck?: Healthcheck;
  /**
   * What Podman does when the container exits. The agent also restores containers stopped by hand.
   */
  restartPolicy?: "no" | "always" | "on-failure" | "unless-stopped";
  /**
   * When to pull the image: IfNotPresent (default), Always, Never.
   */
  pullPolicy?: "IfNotPresent" | "Always" | "Never";
  labels?: Labels;
  /**
   * User (and group) to run as, e.g. 1000:1000.
   */
  user?: string;
  /**
   * Working directory inside the container.
   */
  workingDir?: string;
  /**
   * Use the node's network namespace instead of a private network (Ceph daemons, exporters). Not allowed in workspace templates.
   */
  hostNetwork?: boolean;
  /**
   * Run privileged (Ceph OSDs need the node's disks). Not allowed in workspace templates.
   */
  privileged?: boolean;
}
/**
 * A port published from the container.
 */
export interface ContainerPort {
  /**
   * Port inside the container.
   */
  containerPort: number;
  /**
   * Port on the node. Two containers on one node may not claim the same host port and protocol.
   */
  hostPort?: number;
  /**
   * Node address to bind. Default: in a workspace template the node's internal address (Node spec.network.internalAddress, 127.0.0.1 when unset), never all addresses; in services and profiles all addresses. Use 127.0.0.1 to publish to the node only.
   */
  hostIp?: string;
  /**
   * tcp (default) or udp.
   */
  protocol?: "tcp" | "udp";
  /**
   * Names this port an app of the workspace: it gets the stable URL <app>--<workspace>.<apps domain> through the ingress, for the workspace's tenant only (docs/ingress.md). A DNS label without '--', unique within the template.
   */
  app?: string;
  /**
   * What the app speaks (like Kubernetes' appProtocol): http (default; WebSocket upgrades, streamed responses and large uploads included). Only with app.
   */
  appProtocol?: "http";
  /**
   * The app is an API scripts call (e.g. Ollama's /api): the dashboard shows a curl example with the tenant's API key. Only with app.
   */
  api?: boolean;
}
/**
 * A command run inside the container to decide whether it is healthy.
 */
export interface Healthcheck {
  /**
   * Command and arguments, run without a shell (use ["sh", "-c", "..."] for one).
   *
   * @minItems 1
   */
  command: [string, ...string[]];
  /**
   * Time between checks (default 30s).
   */
  interval?: string;
  /**
   * Time a check may take (default 10s).
   */
  timeout?: string;
  /**
   * Failures in a row before the container is unhealthy (default 3).
   */
  retries?: number;
  /**
   * Grace period after start during which failures do not count.
   */
  startPeriod?: string;
}
