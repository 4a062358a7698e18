/**
 * `foundry validate <dir|url>`: checks an infra repo and lists every issue as file:line:column: path:
 * message. Exit 0 valid, 1 invalid, 2 usage, 3 cannot fetch. `--watch` re-validates on every change.
 */
import type { Command } from 'commander';
import { FoundryError } from '../common/errors.js';
import { formatIssue, type InfraRepo } from '../common/infra/model.js';
import { EXIT } from './exit-codes.js';
import { describeRepo, loadTarget, type TargetOptions } from './load-target.js';
import { watchInfra } from './validate-watch.js';
import { isRemoteUrl } from '../agent/source/credentials.js';

interface ValidateFlags extends TargetOptions {
  json?: boolean;
  watch?: boolean;
}

/** The JSON body of `validate --json`. */
export function validationReport(repo: InfraRepo): Record<string, unknown> {
  return {
    valid: repo.issues.length === 0,
    revision: repo.revision,
    issues: repo.issues,
    warnings: repo.warnings ?? [],
    counts: {
      nodes: repo.nodes.size,
      services: repo.services.size,
      templates: repo.templates.size,
      tenants: repo.tenants.size,
      workspaces: repo.workspaces.size,
      priceLists: repo.priceLists.size,
      secrets: repo.secrets.size,
    },
  };
}

/** The warnings of a repo as `file:line:column: path: warning: message` lines. */
export function warningLines(repo: InfraRepo): string[] {
  return (repo.warnings ?? []).map((w) => formatIssue({ ...w, message: `warning: ${w.message}` }));
}

/** The text of `validate`: one line per warning and issue, then a summary line. */
export function validationText(repo: InfraRepo): string {
  const warned = warningLines(repo);
  if (repo.issues.length === 0) return [...warned, `valid: ${describeRepo(repo)} (revision ${repo.revision})${warned.length === 0 ? '' : ` with ${warned.length} warning${warned.length === 1 ? '' : 's'}`}`].join('\n');
  const files = new Set(repo.issues.map((i) => i.file)).size;
  const lines = [...warned, ...repo.issues.map(formatIssue)];
  lines.push(`invalid: ${repo.issues.length} issue${repo.issues.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} (revision ${repo.revision})`);
  return lines.join('\n');
}

/** Registers the validate command. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an infra repo: every error with file:line:column, the field and what was expected (exit 0 valid, 1 invalid, 2 usage, 3 cannot fetch)')
    .argument('<repo>', 'folder of the infra repo, or a git URL (https://, ssh://, file://)')
    .option('--json', 'print the result as JSON')
    .option('--watch', 're-validate a local folder on every change (never exits on errors)')
    .option('--path <sub>', 'folder inside the repo that holds the infra files')
    .option('--branch <branch>', 'branch to fetch (git URL or local git repo)')
    .option('--revision <rev>', 'commit or tag to check out (git URL or local git repo)')
    .action(async (target: string, flags: ValidateFlags) => {
      if (flags.watch === true) {
        if (isRemoteUrl(target) || flags.branch !== undefined || flags.revision !== undefined) {
          throw new FoundryError('CLI_USAGE', '--watch needs a local folder (not a URL, --branch or --revision)');
        }
        await watchInfra(target, { path: flags.path }, (repo) => {
          const stamp = new Date().toISOString().slice(11, 19);
          process.stdout.write(flags.json === true ? `${JSON.stringify(validationReport(repo))}\n` : `--- ${stamp} ---\n${validationText(repo)}\n`);
        });
        await new Promise<never>(() => undefined); // runs until interrupted
      }
      const repo = await loadTarget(target, flags);
      process.stdout.write(flags.json === true ? `${JSON.stringify(validationReport(repo), null, 2)}\n` : `${validationText(repo)}\n`);
      process.exitCode = repo.issues.length === 0 ? EXIT.OK : EXIT.FAILED;
    });
}
