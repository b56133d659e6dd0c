import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { confirm, isCancel } from '@clack/prompts';
import { applyPlan } from './apply-plan.js';
import { formatPlanDiff, formatPlanSummary } from './format-plan.js';
import { planSetup, setupInputPaths } from './plan-setup.js';
import { readOptional, readProjectFiles } from './read-project-files.js';
import { SetupError } from './setup-error.js';
import { type PackageManager, packageManagers, type SetupLanguage, type SetupTarget, setupTargets } from './setup-types.js';

export type { PackageManager, SetupLanguage, SetupTarget } from './setup-types.js';

/** Options of {@link runSetupCommand}; the bin maps its flags onto these one to one. */
export interface RunSetupCommandOptions {
  target: SetupTarget;
  /** The target folder: nothing is written outside it (except an explicit `clientConfig`). */
  cwd: string;
  /** Print the plan as a unified diff and write nothing. */
  dryRun?: boolean;
  /** Never prompt; take detected or default answers. */
  yes?: boolean;
  packageManager?: PackageManager;
  language?: SetupLanguage;
  /** Explicit MCP client config file to patch in place (the one path allowed outside `cwd`); relative to `cwd`. */
  clientConfig?: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/** What the exit code of `palisade setup` means. */
export const setupExitCodes = {
  /** Written, nothing to do, or a dry run. */
  ok: 0,
  /** A project file is broken, a write was refused (outside the folder, stale plan) or failed. */
  failed: 1,
  /** Bad arguments: unknown target, package manager or language, a missing folder. */
  usage: 2,
  /** The user declined at the confirmation prompt; nothing was written. */
  cancelled: 3,
} as const;

/** `palisade setup --help`, for the bin. */
export const setupUsage = `Usage: palisade setup <target> [options]

Wires Palisade into the project in the current folder. Targets:
  langchain        src/palisade.(ts|js): the guard and createAgent middleware, plus a usage example
  vercel-ai        src/palisade.(ts|js): the guard, wrapLanguageModel middleware and guarded tools, plus a usage example
  mcp              palisade/mcp.json (an mcpServers entry for any client) and palisade/README.md
  cursor           the palisade server in .cursor/mcp.json
  claude-desktop   palisade/claude_desktop_config.snippet.json to merge (or --client-config to patch)

Every target writes palisade.yaml when there is none (balanced preset, one tenant) and ignores
.palisade/ (runtime state) in .gitignore. langchain and vercel-ai add their dependencies to
package.json and print the install command; setup never runs an install. A second run changes
nothing.

Options:
  --dry-run                  print the plan as a unified diff; write nothing
  -y, --yes                  do not ask for confirmation
  --package-manager <name>   npm | pnpm | yarn | bun (default: from packageManager or the lockfile)
  --language <ts|js>         default: ts when tsconfig.json or typescript is present
  --client-config <path>     patch this MCP client config file (mcp, cursor, claude-desktop), keeping
                             its other servers and keys and a backup beside it. This is the one path
                             setup writes outside the current folder, and only when given here.

Setup never writes outside the current folder otherwise (paths, symlinks included, are checked).
Exit codes: 0 done (or nothing to do), 1 failed (nothing or only the listed files written),
2 bad arguments, 3 cancelled at the prompt.`;

/**
 * Runs `palisade setup <target>`: reads the project, plans (`planSetup`), shows the plan, asks
 * on a terminal (unless `yes`), writes it (`applyPlan`) and prints what to do next. Resolves to
 * the exit code (`setupExitCodes`); errors it expects are printed, not thrown.
 *
 * @example
 * process.exitCode = await runSetupCommand({ target: 'langchain', cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr });
 */
export async function runSetupCommand(options: RunSetupCommandOptions): Promise<number> {
  const env = options.env ?? process.env;
  const color = isTerminal(options.stdout) && !env.NO_COLOR;
  try {
    checkOptions(options);
    const cwd = resolve(options.cwd);
    const folder = await stat(cwd).catch(() => undefined);
    if (!folder?.isDirectory()) {
      throw new SetupError({
        code: 'INVALID_SETUP_OPTIONS',
        message: `The target folder ${cwd} does not exist or is not a folder.`,
        file: cwd,
      });
    }
    const files = await readProjectFiles(cwd, setupInputPaths(options.target));
    const clientConfigPath = options.clientConfig === undefined ? undefined : resolve(cwd, options.clientConfig);
    const plan = planSetup({
      target: options.target,
      cwd,
      files,
      ...(options.packageManager ? { packageManager: options.packageManager } : {}),
      ...(options.language ? { language: options.language } : {}),
      ...(clientConfigPath ? { clientConfig: { path: clientConfigPath, text: await readOptional(clientConfigPath) } } : {}),
      platform: process.platform,
      homeDir: homedir(),
      env,
    });

    if (options.dryRun) {
      const { diff } = await applyPlan(plan, { dryRun: true });
      options.stdout.write(
        `${formatPlanSummary(plan, { stage: 'planned', color })}${diff === '' ? '' : `\n${color ? formatPlanDiff(plan, { color }) : diff}`}`,
      );
      options.stdout.write(`\nDry run: nothing was written.\n`);
      return setupExitCodes.ok;
    }
    if (plan.changes.length === 0) {
      options.stdout.write(formatPlanSummary(plan, { stage: 'applied', color }));
      return setupExitCodes.ok;
    }
    if (!options.yes && isTerminal(options.stdout) && process.stdin.isTTY && !env.CI) {
      options.stdout.write(formatPlanSummary({ ...plan, notes: [], installCommand: undefined }, { stage: 'planned', color }));
      const answer = await confirm({
        message: `Write ${plan.changes.length === 1 ? 'this file' : `these ${plan.changes.length} files`}?`,
        output: options.stdout as NodeJS.WriteStream,
      });
      if (isCancel(answer) || !answer) {
        options.stdout.write('Cancelled: nothing was written.\n');
        return setupExitCodes.cancelled;
      }
    }
    await applyPlan(plan);
    options.stdout.write(formatPlanSummary(plan, { stage: 'applied', color }));
    return setupExitCodes.ok;
  } catch (error) {
    if (SetupError.isInstance(error)) {
      options.stderr.write(`palisade setup: ${error.message}\n`);
      return error.code === 'INVALID_SETUP_OPTIONS' ? setupExitCodes.usage : setupExitCodes.failed;
    }
    options.stderr.write(`palisade setup: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return setupExitCodes.failed;
  }
}

function checkOptions(options: RunSetupCommandOptions): void {
  const bad = (message: string, hint: string) => new SetupError({ code: 'INVALID_SETUP_OPTIONS', message, hint });
  if (!setupTargets.includes(options.target)) {
    throw bad(`Unknown setup target ${JSON.stringify(options.target)}.`, `Use one of ${setupTargets.join(', ')}.`);
  }
  if (options.packageManager !== undefined && !packageManagers.includes(options.packageManager)) {
    throw bad(`Unknown package manager ${JSON.stringify(options.packageManager)}.`, `Use one of ${packageManagers.join(', ')}.`);
  }
  if (options.language !== undefined && options.language !== 'ts' && options.language !== 'js') {
    throw bad(`Unknown language ${JSON.stringify(options.language)}.`, 'Use ts or js.');
  }
}

function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true;
}
