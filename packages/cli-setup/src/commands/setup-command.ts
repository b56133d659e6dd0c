import { Option } from 'commander';
import type { RegisterOptions } from './command-types.js';

interface SetupOptions {
  dryRun?: boolean;
  yes?: boolean;
  packageManager?: 'npm' | 'pnpm' | 'yarn' | 'bun';
  language?: 'ts' | 'js';
  clientConfig?: string;
}

export function registerSetupCommand({ program, context, run }: RegisterOptions): void {
  program
    .command('setup')
    .summary('add Palisade to this project: langchain, vercel-ai, mcp, claude-desktop, cursor')
    .argument('<target>', 'langchain | vercel-ai | mcp | claude-desktop | cursor')
    .option('--dry-run', 'print the changes as a diff, write nothing')
    .option('-y, --yes', 'never prompt: take detected or default answers')
    .addOption(new Option('--package-manager <name>', 'the install command to print').choices(['npm', 'pnpm', 'yarn', 'bun']))
    .addOption(new Option('--language <language>', 'language of the generated files').choices(['ts', 'js']))
    .option('--client-config <path>', 'an MCP client config file to patch (the one file allowed outside this folder)')
    .action(
      run(async (target: string, options: SetupOptions) => {
        // Loaded on demand: the scaffolder and its templates are not needed by the operator commands.
        const { runSetupCommand } = await import('../setup/run-setup-command.js');
        const { io } = context;
        return runSetupCommand({
          target: target as Parameters<typeof runSetupCommand>[0]['target'],
          cwd: io.cwd,
          dryRun: options.dryRun ?? false,
          yes: options.yes ?? false,
          ...(options.packageManager !== undefined ? { packageManager: options.packageManager } : {}),
          ...(options.language !== undefined ? { language: options.language } : {}),
          ...(options.clientConfig !== undefined ? { clientConfig: options.clientConfig } : {}),
          stdout: io.stdout,
          stderr: io.stderr,
          env: io.env as NodeJS.ProcessEnv,
        });
      }),
    );
}
