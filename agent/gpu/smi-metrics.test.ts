// nvidia-smi polls in the agent's metrics: the real runner spawning the stand-in (scripts/fake-nvidia-smi, real captures).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fakeSmi, type FakeSmi } from '../../test/gpu/fake-smi.js';
import { sampleValue } from '../../test/support/prom-text.js';
import { PromAgentMetrics } from '../metrics/prom-metrics.js';
import { NvidiaGpuPlugin } from './nvidia-plugin.js';
import { SmiRunner } from './smi-runner.js';

describe('nvidia-smi metrics', () => {
  let smi: FakeSmi | undefined;
  afterEach(() => smi?.cleanup());

  it('times each query and counts a crashed nvidia-smi as a failure; an absent one is not', async () => {
    smi = fakeSmi('h100-load');
    const metrics = new PromAgentMetrics({ version: 'v' });
    const exec = new SmiRunner({ command: join(smi.dir, 'nvidia-smi'), env: smi.env }).run;
    const plugin = new NvidiaGpuPlugin({ exec, metrics });
    const stats = await plugin.stats();
    expect(stats.gpus.length).toBeGreaterThan(0);
    let t = await metrics.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'gpu' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'compute-apps' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_sum', { query: 'gpu' })).toBeGreaterThan(0);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_failures_total', { query: 'gpu' })).toBe(0);

    smi.scenario('crash');
    await expect(plugin.stats()).rejects.toThrow(/nvidia-smi exited with 9/);
    t = await metrics.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_failures_total', { query: 'gpu' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'gpu' })).toBe(2);

    const absent = new NvidiaGpuPlugin({ command: join(smi.dir, 'no-such-nvidia-smi'), metrics });
    expect((await absent.stats()).available).toBe(false);
    t = await metrics.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_failures_total', { query: 'gpu' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'gpu' })).toBe(3);
  });
});
