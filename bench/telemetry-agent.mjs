// Child process of nvidia-smi.bench.mjs: the agent's telemetry path alone, for a CPU measurement over
// minutes. Real NvidiaGpuPlugin on the stand-in nvidia-smi (h100-load: 8 GPUs), real host metrics
// (systeminformation + /proc/net/dev), real UsageEmitter writing usage records into a real outbox
// (SQLite, synchronous=FULL) for one running 8-GPU workspace, and each telemetry body encoded as the link
// would. Prints "ready" after the first tick; runs until killed. Env: INTERVAL_MS, STATE_DIR, FAKE_SMI.
const { NvidiaGpuPlugin } = await import('../dist/agent/gpu/nvidia-plugin.js');
const { SmiRunner } = await import('../dist/agent/gpu/smi-runner.js');
const { TelemetryLoop } = await import('../dist/agent/telemetry-loop.js');
const { UsageEmitter } = await import('../dist/agent/usage/usage-emitter.js');
const { Outbox } = await import('../dist/agent/link/outbox.js');

const env = { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: 'h100-load' };
const gpu = new NvidiaGpuPlugin({ exec: new SmiRunner({ command: process.env.FAKE_SMI, env }).run });
const inventory = await gpu.fingerprint();
const outbox = new Outbox(process.env.STATE_DIR);
const usage = new UsageEmitter({ node: 'bench-01', sink: (record) => void outbox.enqueue('usage', record) });
const allocation = [{ workspace: 'acme-train', tenant: 'acme', gpus: inventory.gpus.map((g) => ({ uuid: g.uuid, model: g.model })), running: true, resources: { milliVcpus: 16000, memoryBytes: 128 * 2 ** 30, storageBytes: 0 } }];
let bytes = 0;
const loop = new TelemetryLoop({ node: 'bench-01', gpu, send: (body) => void (bytes += JSON.stringify({ v: 1, type: 'telemetry', body }).length), usage, allocations: () => allocation, intervalMs: Number(process.env.INTERVAL_MS ?? 5000) });
await loop.tickOnce();
process.stdout.write(`ready ${inventory.gpus.length} gpus\n`);
loop.start();
setInterval(() => undefined, 60_000);
process.on('SIGTERM', () => {
  loop.stop();
  process.stdout.write(`done ${bytes} bytes, ${outbox.size()} outbox records\n`);
  outbox.close();
  process.exit(0);
});
