/** The fixed part of docs/reliability.md: how the scenarios work, and what they do not show. */
export const NOTES = `## How to run

\`npm run chaos\` builds, runs every scenario one file at a time (vitest.chaos.config.ts) and rewrites
this file; a run limited to some files or tests writes its report to the temp dir instead. It needs root
(network namespaces, nftables, tmpfs mounts, restarting libvirtd), Podman and libvirt as in
HOST-NOTES.md, and takes about 6 minutes here. \`FOUNDRY_CHAOS_SECONDS\` (default 60) sets the length of
the kill-and-cut test. It is not part of \`npm test\`: it restarts the system libvirtd, which other test
files share, so it must run alone.

## How the scenarios work, and their limits

- **Hub outage and billing.** Real agent processes (the HubLink with its durable outbox and the
  UsageEmitter, from dist/) run on a simulated clock: one 10 s usage slot per 20 ms, so four hours of
  usage take half a minute and a 20 s outage covers about 2.5 hours of usage. The records depend only on
  the slot number, so the run without the outage is the reference: the stored records and the invoices
  (coalesce, rate, buildInvoices, CSV) must be identical. The node agent's composition (agent/node-agent.ts)
  wires the same two classes; its telemetry loop and nvidia-smi are not part of this scenario.
- **Slow link.** The kernel here has no netem (\`CONFIG_NET_SCH_NETEM is not set\`; \`tc qdisc add ... netem\`
  answers "Specified qdisc kind is unknown"; there is no /lib/modules to load it from). The scenario still
  uses a real network namespace and veth pair (10.251.77.0/30, used nowhere else), with real packet loss
  from an nftables rule inside the namespace (\`numgen random mod 100 < 10 drop\`, both directions), a real
  rate limit (tbf, 1 Mbit/s), and the 200 ms latency from a userspace proxy on the host end of the veth. On
  a kernel with netem, test/support/netns.ts uses \`netem delay 200ms loss 10% rate 1024kbit\` instead and
  no proxy delay. The cable is "pulled" by setting the namespace's veth down for 5 s.
- **Disk full.** SQLite in WAL mode with synchronous=FULL fills a 256 KiB tmpfs after a few dozen
  records (the WAL takes most of it). The records the outbox refuses stay in the emitter's memory, in
  order, and are stored once space returns. Those in memory are lost if the agent dies while the disk is
  still full; time they cover is then not billed (the customer's favour), never billed twice.
- **libvirtd.** A second privileged libvirtd would share /run/libvirt and the qemu driver's state with
  the system one, so there is no private libvirtd: the scenario restarts the system daemon (SIGTERM, then
  \`libvirtd -d\`), which is why the chaos suite runs alone. Its guest is a 64 MiB KVM domain with no OS.
- **Another tenant's credential.** The hub's principal chain (hub/auth/principal.ts) is given a
  tenant principal for globex; every route is then called with it while its path names acme's data. This
  covers every authenticator, however tenant credentials are issued.
- **Routes** are enumerated from the running app (an onRoute hook on Fastify's factory), so routes added
  later are checked without editing the test; the agents' WebSocket (an upgrade, not a route) is checked
  separately. Routes open by design are listed in test/chaos/http-security.test.ts with the reason.
- **Reused tests.** The kill-and-cut exactly-once test (test/link), the WebSocket fuzz test (test/hub)
  and the kill -9 mid-reconcile test (test/podman) run here unchanged; their rows take their text from
  the reporter and their console output.
`;
