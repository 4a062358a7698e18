/**
 * `foundry hub invoice --tenant T --month YYYY-MM [--csv]`: a tenant's invoice straight from the hub's
 * data dir (hub.db and the hosted infra.git, read-only; works while the hub runs and when it is down),
 * or with --repo a checkout of an external infra repo for the price lists. The API serves the same.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { loadInfraDir } from '../common/infra/load.js';
import type { InfraRepo } from '../common/infra/model.js';
import { DEFAULT_DATA_DIR, withHubStore } from './hub-data.js';

async function repoOf(dataDir: string, repo: string | undefined): Promise<InfraRepo> {
  if (repo !== undefined) return loadInfraDir(repo);
  const hosted = join(dataDir, 'infra.git');
  if (!existsSync(hosted)) throw new FoundryError('CLI_USAGE', `no hosted infra repo in ${dataDir}: pass --repo <checkout> for the price lists`);
  const work = mkdtempSync(join(tmpdir(), 'foundry-invoice-'));
  try {
    const { InfraRepoWriter } = await import('../hub/gitops/repo-writer.js');
    return await new InfraRepoWriter({ repoDir: hosted, workDir: work }).read((dir, rev) => loadInfraDir(dir, { revision: rev }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Registers `hub invoice` under the hub command. */
export function registerHubInvoice(hub: Command): void {
  hub
    .command('invoice')
    .description('print a tenant\'s invoice for a month (JSON, or CSV with --csv) from the hub data dir')
    .requiredOption('--tenant <tenant>', 'tenant')
    .requiredOption('--month <YYYY-MM>', 'UTC month')
    .option('--csv', 'print CSV instead of JSON')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .option('--repo <dir>', 'a checkout of the infra repo (default: the hosted infra.git in the data dir)')
    .action(async (o: { tenant: string; month: string; csv?: boolean; dataDir: string; repo?: string }) => {
      if (!/^[0-9]{4}-(0[1-9]|1[0-2])$/.test(o.month)) throw new FoundryError('CLI_USAGE', `invalid --month ${JSON.stringify(o.month)}: expected YYYY-MM`);
      // Absolute: the hosted repo is cloned from a temporary folder, where a relative path names nothing.
      const dataDir = resolve(o.dataDir);
      if (!existsSync(join(dataDir, 'hub.db'))) throw new FoundryError('CLI_USAGE', `no hub.db in ${dataDir}: pass --data-dir`);
      const repo = await repoOf(dataDir, o.repo);
      const { Invoicer } = await import('../hub/invoicing/invoicer.js');
      await withHubStore(dataDir, async (store) => {
        const r = await new Invoicer(store.billing).invoice(repo, o.tenant, o.month);
        process.stdout.write(o.csv === true ? r.csv : `${JSON.stringify({ ...r.invoice, frozen: r.frozen, unpriced: r.unpriced, ...(r.emptyReason === undefined ? {} : { emptyReason: r.emptyReason }) }, null, 2)}\n`);
      });
    });
}
