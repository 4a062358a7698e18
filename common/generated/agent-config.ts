// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Configuration of `foundry agent` on one node (/etc/foundry/agent.yaml by default). Everything about what runs comes from the infra repo; this file only says which node this is and where the repo and the runtimes are.
 */
export interface AgentConfig {
  /**
   * This node's name: metadata.name of its Node document in the infra repo (nodes/NAME.yaml).
   */
  node: string;
  /**
   * Where the infra repo is.
   */
  repo: {
    /**
     * Git URL (https://, ssh://, file://) or a local path. A local path is also watched for changes: a commit there (or, for a plain directory, a saved file) triggers a reconcile at once.
     */
    url: string;
    /**
     * Branch to follow (default: the remote's default branch).
     */
    branch?: string;
    /**
     * Folder inside the repo that holds the infra files (default: the whole repo).
     */
    path?: string;
    /**
     * Pin a commit (full or short SHA) or tag instead of following the branch.
     */
    revision?: string;
    /**
     * How often to fetch the repo (default: the Cluster's spec.pollInterval, else 60s); each wait gets up to 10% jitter.
     */
    pollInterval?: string;
    /**
     * Time a fetch may take (default 60s).
     */
    timeout?: string;
  };
  /**
   * Where fetched revisions are kept (default /var/lib/foundry/cache).
   */
  cacheDir?: string;
  /**
   * Where the agent writes status.json and its sync trigger (default /var/lib/foundry/agent).
   */
  stateDir?: string;
  /**
   * The container engine's API socket.
   */
  podman?: {
    /**
     * Docker-compatible API socket of Podman (`podman system service`) or Docker Engine (default /run/podman/podman.sock).
     */
    socketPath?: string;
    /**
     * Time a container gets to stop before it is killed (default 10s).
     */
    stopTimeout?: string;
  };
  /**
   * The hub this agent reports to (used once the agent is enrolled).
   */
  hub?: {
    /**
     * Hub URL, e.g. https://hub.example.eu.
     */
    url?: string;
    /**
     * File holding this node's credential (written mode 0600 at enrollment); used for the agent link and the hosted infra repo.
     */
    credentialFile?: string;
    /**
     * PEM certificate to trust for the hub (written at enrollment when the hub's certificate, checked against the join token's pin, is not signed by a public CA).
     */
    caFile?: string;
  };
  /**
   * Commit-signature verification: when on, only commits signed by an allowed key are applied.
   */
  verify?: {
    /**
     * off (default), ssh (SSH signatures checked against allowedSignersFile) or gpg (OpenPGP signatures checked against the keys in keyring).
     */
    mode: "off" | "ssh" | "gpg";
    /**
     * For mode ssh: an allowed-signers file in ssh-keygen's format (`principal key-type key`).
     */
    allowedSignersFile?: string;
    /**
     * For mode gpg: a file of exported public keys (armored or binary); a commit must carry a good signature by one of them.
     */
    keyring?: string;
  };
  /**
   * Back-off of a resource whose action failed: the delay doubles from baseDelay up to maxDelay.
   */
  retry?: {
    /**
     * First delay (default 5s).
     */
    baseDelay?: string;
    /**
     * Longest delay (default 5m).
     */
    maxDelay?: string;
  };
  /**
   * The agent's own Prometheus metrics endpoint (GET /metrics; off when absent). `foundry agent run --metrics-listen` overrides it. docs/metrics.md lists the metrics.
   */
  metrics?: {
    /**
     * HOST:PORT to serve /metrics on, e.g. 127.0.0.1:9101 ([::1]:9101 for IPv6; PORT alone binds the loopback). The endpoint has no authentication: an address beyond the loopback (0.0.0.0:9101, the node's private address) serves it to anyone who reaches that address, and is bound only when written out here.
     */
    listen: string;
  };
  /**
   * Logging (structured JSON lines on stdout).
   */
  log?: {
    /**
     * Minimum level (default info).
     */
    level?: "trace" | "debug" | "info" | "warn" | "error";
  };
  /**
   * Run VMs of driver libvirt on this node (off when absent).
   */
  libvirt?: {
    /**
     * libvirt connection URI (default qemu:///system).
     */
    uri?: string;
    /**
     * Where VM disk overlays and cloud-init seeds live (default /var/lib/libvirt/images/foundry).
     */
    diskDir?: string;
    /**
     * The only folder VM base images are taken from (default /var/lib/foundry/images); a base image elsewhere, or a link out of it, is refused.
     */
    imageDir?: string;
    /**
     * Time a guest gets to power off before it is destroyed (default 60s).
     */
    shutdownTimeout?: string;
  };
  /**
   * Run VMs of driver openstack on this node: Nova servers in the project of one cloud of a clouds.yaml (off when absent). The secrets stay in that file.
   */
  openstack?: {
    /**
     * clouds.yaml holding the cloud's auth_url, credentials (password or application credential), region_name and interface; keep it mode 0600 (default /etc/openstack/clouds.yaml).
     */
    cloudsFile?: string;
    /**
     * Name of the cloud under clouds: in that file.
     */
    cloud: string;
    /**
     * How a VM is pinned to this node's hypervisor: microversion (host field, Nova 2.74+, default) or availability-zone (legacy zone:host).
     */
    hostTargeting?: "microversion" | "availability-zone";
    /**
     * What a VM that names no network gets: none (no network interface) or auto (Neutron's auto-allocated network); both use compute microversion 2.37. Unset: the request carries no networks field and Nova picks the project's network.
     */
    networks?: "none" | "auto";
    /**
     * Timeout of one Keystone or Nova request (default 30s).
     */
    timeout?: string;
  };
}
