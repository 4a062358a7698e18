/**
 * A private network namespace joined to the host by a veth pair, for slow-link tests: addresses in a
 * /30 of a private range used only here, shaped with netem (delay, loss) where the kernel has it; where
 * it does not (CONFIG_NET_SCH_NETEM unset, as on the project's VMs), loss comes from an nftables rule
 * inside the namespace (numgen random drop) and the caller adds delay in userspace (delay-proxy.ts).
 * A token bucket (tbf) limits the rate. Needs root and iproute2; nothing outside the namespace changes
 * except the host end of the veth.
 */
import { spawnSync } from 'node:child_process';

/** A namespace and its link to the host. */
export interface NetNs {
  name: string;
  hostAddr: string;
  nsAddr: string;
  /** The namespace's end of the veth pair (set it down to pull the cable). */
  nsIf: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  /** How the link was shaped, e.g. "netem delay 200ms loss 10%" or "nft drop 10% + tbf 1mbit (no netem here)". */
  shaping: string;
  /** True when netem applies the delay (the caller then adds none). */
  netemDelay: boolean;
  /** Packets the nftables loss rule dropped so far (0 with netem, which does not count them here). */
  dropped(): number;
  remove(): void;
}

function run(args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', input, timeout: 10_000 });
  return { status: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function must(args: string[], input?: string): string {
  const r = run(args, input);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** True when this process may create namespaces (root with ip and tc). */
export function netnsAvailable(): boolean {
  return process.getuid?.() === 0 && run(['ip', '-V']).status === 0 && run(['tc', '-V']).status === 0;
}

/** Creates namespace `name` (tag: up to 8 characters, used in interface names) with 10.251.<subnet>.1 (host) and .2 (namespace). */
export function createNetns(tag: string, subnet: number, link: { delayMs: number; lossPct: number; rateKbit: number }): NetNs {
  const name = `fc-chaos-${tag}`;
  const hostIf = `fc${tag}h`.slice(0, 15);
  const nsIf = `fc${tag}n`.slice(0, 15);
  const hostAddr = `10.251.${subnet}.1`;
  const nsAddr = `10.251.${subnet}.2`;
  run(['ip', 'netns', 'del', name]);
  run(['ip', 'link', 'del', hostIf]);
  must(['ip', 'netns', 'add', name]);
  const remove = (): void => {
    run(['ip', 'netns', 'del', name]);
    run(['ip', 'link', 'del', hostIf]);
  };
  try {
    must(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    must(['ip', 'link', 'set', nsIf, 'netns', name]);
    must(['ip', 'addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
    must(['ip', 'link', 'set', hostIf, 'up']);
    must(['ip', '-n', name, 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]);
    must(['ip', '-n', name, 'link', 'set', nsIf, 'up']);
    must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    const netem = run(['ip', 'netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', nsIf, 'root', 'netem', 'delay', `${link.delayMs}ms`, 'loss', `${link.lossPct}%`, 'rate', `${link.rateKbit}kbit`]);
    if (netem.status === 0) {
      return { name, hostAddr, nsAddr, nsIf, exec: ['ip', 'netns', 'exec', name], shaping: `netem delay ${link.delayMs}ms loss ${link.lossPct}% rate ${link.rateKbit}kbit`, netemDelay: true, dropped: () => 0, remove };
    }
    // No netem: drop packets in both directions inside the namespace, and limit the rate with tbf.
    must(['ip', 'netns', 'exec', name, 'nft', '-f', '-'], [
      'table inet fcloss {',
      `  chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 100 < ${link.lossPct} counter drop; }`,
      `  chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 100 < ${link.lossPct} counter drop; }`,
      '}',
    ].join('\n'));
    must(['ip', 'netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', nsIf, 'root', 'tbf', 'rate', `${link.rateKbit}kbit`, 'burst', '32kbit', 'latency', '400ms']);
    const dropped = (): number => {
      const out = run(['ip', 'netns', 'exec', name, 'nft', 'list', 'table', 'inet', 'fcloss']).out;
      return [...out.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const why = netem.out.split('\n')[0] ?? '';
    return { name, hostAddr, nsAddr, nsIf, exec: ['ip', 'netns', 'exec', name], shaping: `no netem here (tc: "${why}"): nftables drops ${link.lossPct}% of TCP packets each way in the namespace, tbf limits to ${link.rateKbit}kbit, a userspace proxy adds ${link.delayMs} ms each way`, netemDelay: false, dropped, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
